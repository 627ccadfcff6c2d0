"""``rnnkit train | evaluate`` for task ``asr``: a speech manifest (``[data] path``: a
``manifest.csv`` or the corpus folder holding one) with ``train``/``dev``/``test`` splits;
without a ``path``, the default generated corpus is made in ``OUT/corpus`` first (needs
espeak-ng, flite and sox; a few minutes)."""

from __future__ import annotations

from pathlib import Path

import typer

from rnnkit.cli.tables import print_table
from rnnkit.errors import ConfigError, problem


def train(cfg, out: Path, resume: bool) -> None:
    from rnnkit.data.speech import make_speech_corpus
    from rnnkit.tasks.asr import SpeechRecognizer

    data = dict(cfg.data)
    extra = sorted(set(data) - {"path"})
    if extra:
        raise ConfigError(problem("[data] for task asr", expected="only 'path' (a manifest.csv or corpus "
                                  "folder)", got=f"also {extra}"))
    if "path" in data:
        source = Path(data["path"])
    else:
        source = out / "corpus"
        if not (source / "manifest.csv").exists():
            typer.echo(f"no [data] path: making the default speech corpus in {source} ...")
            make_speech_corpus(source)
    asr = SpeechRecognizer(**cfg.model, **cfg.train).fit(source, out_dir=out, resume=resume)
    _print(asr, source)
    typer.echo(f"model file: {asr.save(out / 'model.rnnkit')}")


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


def evaluate(est, model: Path, data: Path, json_out: bool) -> None:
    """The test split of a manifest with one, else every row."""
    frame, split = _test_split(data, "rnnkit evaluate")
    report = est.evaluate(frame, split=split)
    if json_out:
        typer.echo(report.table.to_json(orient="index"))
        return
    print_table(report.table[["wer", "cer"]], f"{model.name}: error rates on {data}", highlight="beam+vocabulary")
    for name, table in report.groups.items():
        print_table(table[["wer", "cer"]], f"by {name} (beam+vocabulary)", highlight="all")
