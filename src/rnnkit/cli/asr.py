"""``rnnkit train | evaluate`` for task ``asr``: a speech manifest (``[data] path``: a
``manifest.csv`` or the corpus folder holding one) with ``train``/``dev``/``test`` splits;
without a ``path``, the default generated corpus is made in ``OUT/corpus`` first (needs
espeak-ng, flite and sox; a few minutes)."""

from __future__ import annotations

from pathlib import Path

import typer

from rnnkit.cli.scores import show_scores
from rnnkit.cli.tables import print_table

DATA_KEYS = ("path",)


def train(cfg, out: Path, resume: bool) -> None:
    from rnnkit.cli.runs import check_data_keys, save_model
    from rnnkit.data.speech import make_speech_corpus
    from rnnkit.tasks.asr import SpeechRecognizer

    check_data_keys(cfg, DATA_KEYS)
    if "path" in cfg.data:
        source = Path(cfg.data["path"])
    else:
        source = out / "corpus"
        if not (source / "manifest.csv").exists():
            typer.echo(f"no [data] path: making the default speech corpus in {source} ...", err=True)
            make_speech_corpus(source, progress=True)
    asr = SpeechRecognizer(**cfg.model, **cfg.train).fit(source, out_dir=out, resume=resume)
    _print(asr, source)
    save_model(asr, out)


def _test_split(source, where: str):
    """``(manifest, "test")`` when it has test rows, else ``(manifest, None)``."""
    from rnnkit.tasks.asr.inputs import as_manifest

    frame = as_manifest(source, where)
    has_test = "split" in frame.columns and (frame["split"].astype(str) == "test").any()
    return frame, "test" if has_test else None


def _print(asr, source) -> None:
    frame, split = _test_split(source, "rnnkit train")
    if split is None:
        return
    report = asr.evaluate(frame, split=split)
    print_table(report.table[["wer", "cer"]], "Test split (held-out voices)", highlight="beam+vocabulary")
    if "voice" in report.groups:
        print_table(report.groups["voice"][["wer", "cer"]], "Per voice (beam+vocabulary)", highlight="all")


def evaluate(est, model: Path, data: Path, json_out: bool = False, *, split: str | None = None,
             encoding: str = "utf-8") -> None:
    """A manifest's test split when it has one, else every row (``split="all"``: every row;
    another value: that split)."""
    from rnnkit.data.frames import select_split
    from rnnkit.tasks.asr.inputs import as_manifest

    frame, note = select_split(as_manifest(data, "rnnkit evaluate"), split, f"rnnkit evaluate {data}")
    report = est.evaluate(frame, split=None)
    table = report.table if json_out else report.table[["wer", "cer"]]
    show_scores(table, f"{model.name}: error rates on {data}", note, json_out, highlight="beam+vocabulary")
    for name, table in ({} if json_out else report.groups).items():
        print_table(table[["wer", "cer"]], f"by {name} (beam+vocabulary)", highlight="all")
