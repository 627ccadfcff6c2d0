"""Speech recognition on the generated spoken-digits-and-commands corpus: rnnkit's
``SpeechRecognizer`` (default settings), word and character error rates per held-out voice.

Data: ``rnnkit.data.speech.make_speech_corpus`` with its defaults — 1,200 digit strings
(1-7 digits) and 400 voice commands, each written clean and mixed with white or pink
noise at 20 and 10 dB SNR (4,800 WAVs), spoken by 64 espeak-ng / flite voices. Whole
voices are held out: 7 test voices (``DEFAULT_TEST_VOICES``, both synthesizers, every
accent) and 3 dev voices that only drive early stopping; no test audio reaches training.

Rows: each test voice and ``all``. Columns: WER (and CER) on clean digit strings, on
digit strings at 20 dB and at 10 dB, and on commands (all SNRs), for the default decoder
(prefix beam search, beam 8, constrained to the training vocabulary), then the same
conditions pooled over voices for four decoders: greedy, beam (open vocabulary),
beam+vocabulary (the training words) and beam+grammar (a string of digit words or one of
the 20 command phrases, ``AnyOf(Vocabulary(DIGIT_WORDS), Phrases(COMMANDS))``).
Targets (issue 5): clean digits WER <= 10 %, 10 dB digits WER <= 20 %. Last, one clean
digit string per test voice is resampled to 44.1 kHz stereo and run through
``rnnkit transcribe``.

Writes ``benchmarks/results/speech.md`` and ``.json`` and the model to
``benchmarks/out/speech.rnnkit``.

    python benchmarks/speech.py [--corpus DIR] [--model FILE] [--set key=value ...]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

import rnnkit  # noqa: E402
from rnnkit.config_file import parse_value  # noqa: E402
from rnnkit.tasks.asr.report import DECODERS  # noqa: E402

HERE = Path(__file__).parent
OUT, RESULTS = HERE / "out", HERE / "results"
TARGETS = {"digits clean": 0.10, "digits 10 dB": 0.20}


def condition(row) -> str:
    if row["kind"] != "digits":
        return "commands"
    snr = row["snr"]
    return "digits clean" if snr != snr else f"digits {int(snr)} dB"


CONDITIONS = ("digits clean", "digits 20 dB", "digits 10 dB", "commands")


def tables(predictions: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per voice x condition for beam+vocabulary, per decoder x condition pooled)."""
    from rnnkit.tasks.asr import metrics

    p = predictions.assign(condition=[condition(r) for _, r in predictions.iterrows()])
    per_voice = {}
    for voice, rows in [*p.groupby("voice"), ("all", p)]:
        row = {}
        for c in CONDITIONS:
            sub = rows[rows.condition == c]
            row[f"{c} WER"] = metrics.wer(sub.transcript, sub["beam+vocabulary"])
            row[f"{c} CER"] = metrics.cer(sub.transcript, sub["beam+vocabulary"])
        row["utterances"] = len(rows)
        per_voice[voice] = row
    per_decoder = {}
    for d in [*DECODERS, "beam+grammar"]:
        per_decoder[d] = {c: metrics.wer(p[p.condition == c].transcript, p[p.condition == c][d])
                          for c in CONDITIONS}
        per_decoder[d]["all WER"] = metrics.wer(p.transcript, p[d])
        per_decoder[d]["all CER"] = metrics.cer(p.transcript, p[d])
    return pd.DataFrame.from_dict(per_voice, orient="index"), pd.DataFrame.from_dict(per_decoder, orient="index")


def stereo_check(model_path: Path, test: pd.DataFrame, folder: Path) -> list[dict]:
    """One clean digit string per test voice, as 44.1 kHz stereo 16-bit, through the CLI."""
    import soundfile as sf
    from scipy.signal import resample_poly

    from rnnkit.cli.main import main

    folder.mkdir(parents=True, exist_ok=True)
    rows = test[(test.kind == "digits") & test.snr.isna()].groupby("voice").head(1)
    files = []
    for i, (_, row) in enumerate(rows.iterrows()):
        wave, rate = sf.read(row["path"], dtype="float64")
        wide = resample_poly(wave, 441, 160)
        path = folder / f"stereo_{i}.wav"
        sf.write(path, np.stack([wide, 0.9 * wide], axis=1), 44100, subtype="PCM_16")
        files.append(str(path))
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        status = main(["transcribe", str(model_path), *files])
    got = dict(line.split("\t", 1) for line in buffer.getvalue().splitlines())
    return [{"voice": r["voice"], "transcript": r["transcript"], "got": got.get(f, "<error>"), "status": status}
            for f, (_, r) in zip(files, rows.iterrows())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=OUT / "speech_corpus",
                        help="corpus folder (made there with the defaults when it has no manifest.csv)")
    parser.add_argument("--model", type=Path, default=None, help="evaluate this model file instead of training")
    parser.add_argument("--set", dest="sets", action="append", default=[], help="a SpeechRecognizer setting key=value")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    from rnnkit.data.speech import make_speech_corpus, read_manifest

    if not (args.corpus / "manifest.csv").exists():
        print(f"making the corpus in {args.corpus} ...", flush=True)
        make_speech_corpus(args.corpus, progress=True)
    corpus_seconds = time.perf_counter() - started
    manifest = read_manifest(args.corpus)
    settings = {k: parse_value(v) for k, v in (s.split("=", 1) for s in args.sets)}
    fit_seconds, history = None, None
    if args.model is None:
        settings.setdefault("progress", "plain")
        t = time.perf_counter()
        asr = rnnkit.SpeechRecognizer(**settings).fit(manifest)
        fit_seconds = time.perf_counter() - t
        history = asr.history_
        OUT.mkdir(parents=True, exist_ok=True)
        model_path = asr.save(OUT / "speech.rnnkit")
    else:
        model_path, asr = args.model, rnnkit.load(args.model)
    from rnnkit.data.speech import COMMANDS, DIGIT_WORDS
    from rnnkit.tasks.asr import AnyOf, Phrases, Vocabulary

    grammar = AnyOf(Vocabulary(DIGIT_WORDS), Phrases(COMMANDS))  # a digit string or one command
    t = time.perf_counter()
    report = asr.evaluate(manifest, split="test", constraints={"grammar": grammar})
    eval_seconds = time.perf_counter() - t
    test = manifest[manifest.split == "test"].reset_index(drop=True)
    per_voice, per_decoder = tables(report.predictions)
    stereo = stereo_check(model_path, test, OUT / "speech_stereo")
    total = time.perf_counter() - started

    fmt = lambda v: f"{100 * v:.1f}"  # noqa: E731
    voice_cols = [f"{c} WER" for c in CONDITIONS] + [f"{c} CER" for c in CONDITIONS]
    checks = {name: (float(per_voice.loc["all", f"{name} WER"]), goal) for name, goal in TARGETS.items()}
    lines = ["# Speech recognition: held-out voices", "",
             f"Command: `python benchmarks/speech.py"
             f"{' --corpus ' + str(args.corpus) if args.corpus != OUT / 'speech_corpus' else ''}"
             f"{' --model ' + str(args.model) if args.model else ''}"
             f"{''.join(' --set ' + s for s in args.sets)}` ({total / 60:.1f} min on {platform.machine()}, "
             f"{args.threads} threads, torch {torch.__version__}; fit {fit_seconds / 60 if fit_seconds else 0:.1f} min, "
             f"evaluation {eval_seconds:.0f} s).", "",
             f"Test split: {len(test)} utterances of {test.voice.nunique()} voices never heard in training "
             f"(clean, 20 dB and 10 dB copies). Model: {asr.config.cell.upper()} "
             f"{asr.config.num_layers}x{asr.config.hidden_size} {'bi' if asr.config.bidirectional else 'uni'}directional, "
             f"{sum(p.numel() for p in asr.model_.parameters()):,} parameters"
             + (f", {len(history.rows)} epochs (best {history.best_epoch})" if history else "") + ".", "",
             "## Per voice, default decoder (beam 8 + vocabulary), error rates in %", "",
             (100 * per_voice[voice_cols]).to_markdown(floatfmt=".1f") if _has_tabulate() else
             per_voice[voice_cols].map(fmt).to_string(), "",
             "## Decoders, all test voices, WER in % (CER for the last column)", "",
             per_decoder.map(fmt).to_markdown() if _has_tabulate() else per_decoder.map(fmt).to_string(), "",
             "## Targets (issue 5)", ""]
    for name, (value, goal) in checks.items():
        lines.append(f"- {name}: WER {100 * value:.1f} % (target <= {100 * goal:.0f} %): "
                     f"{'PASS' if value <= goal else 'MISS'}")
    ok = sum(r["got"] == r["transcript"] for r in stereo)
    lines += ["", f"## `rnnkit transcribe` on 44.1 kHz stereo 16-bit files: {ok}/{len(stereo)} exact", ""]
    lines += [f"- {r['voice']}: expected {r['transcript']!r}, got {r['got']!r}" for r in stereo]
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "speech.md").write_text(text)
    payload = {"settings": asr.config.to_dict(), "per_voice": per_voice.to_dict(orient="index"),
               "per_decoder": per_decoder.to_dict(orient="index"), "targets": {k: {"wer": v, "target": g}
                                                                                 for k, (v, g) in checks.items()},
               "stereo": stereo, "seconds": {"total": total, "corpus": corpus_seconds, "fit": fit_seconds,
                                             "evaluate": eval_seconds},
               "history": history.rows if history else None, "torch": torch.__version__}
    (RESULTS / "speech.json").write_text(json.dumps(payload, indent=1, default=float))
    print(text)


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
        return True
    except ImportError:
        return False


if __name__ == "__main__":
    main()
