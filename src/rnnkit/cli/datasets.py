"""``rnnkit datasets list | export NAME | make-speech OUT``: the data sets that work offline."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import typer

import rnnkit  # noqa: F401  (the task packages register their data sets on import)
from rnnkit.data import datasets

app = typer.Typer(help="Real data sets that ship inside installed packages, and a synthetic speech "
                       "corpus (no network needed).\n\n"
                       "Example: rnnkit datasets export seattle-weather --out weather.csv",
                  no_args_is_help=True)

TASK_ORDER = ("forecast", "anomaly", "classify-series", "classify-text", "lm", "seq2seq", "asr")


def listing(width: int) -> list[str]:
    """The lines of ``rnnkit datasets list`` for a terminal ``width`` columns wide: a line
    per set (the name in full, the task it trains, its package, cut with … when too long),
    then its description and columns wrapped under it."""
    entries = sorted(datasets.REGISTRY.values(), key=lambda e: TASK_ORDER.index(e.task)
                     if e.task in TASK_ORDER else len(TASK_ORDER))
    name_w = max(len(e.name) for e in entries) + 2
    task_w = max(len(e.task) for e in entries) + 2
    lines = ["NAME".ljust(name_w) + "TASK".ljust(task_w) + "PACKAGE"]
    wrap = textwrap.TextWrapper(width=max(width, 40) - 1, initial_indent="    ", subsequent_indent="    ",
                                break_on_hyphens=False)
    for e in entries:
        head, room = e.name.ljust(name_w) + e.task.ljust(task_w), max(width, 40) - 1 - name_w - task_w
        lines.append(head + (e.package if len(e.package) <= room else e.package[:max(room - 1, 0)] + "…"))
        columns = [f"time {e.time}"] if e.time else []
        columns += [f"id {e.id}"] if e.id else []
        columns += [f"target {', '.join(e.targets)}"] if e.targets and e.kind in ("series", "anomaly") else []
        lines += wrap.wrap(e.description + (f" ({'; '.join(columns)})" if columns else ""))
    return lines


@app.command("list")
def list_datasets() -> None:
    """List the data sets: name, the task each trains, its package, and what it holds.

    Example: rnnkit datasets list
    """
    for line in listing(shutil.get_terminal_size().columns):
        typer.echo(line)
    typer.echo("\nWrite one to a file: rnnkit datasets export NAME [--out PATH]")


@app.command("export")
def export(name: str = typer.Argument(..., help="Data set name (see: rnnkit datasets list)."),
           out: Path = typer.Option(None, "--out", "-o", help="Where to write it (default NAME.csv; "
                                    "fortunes: NAME.txt; speech: a folder NAME).")) -> None:
    """Write a data set in the layout its task reads: a CSV for tables (with a split column where
    the set has one), text records for fortunes, WAV files and a manifest for speech.

    Example: rnnkit datasets export seattle-weather --out weather.csv
    """
    typer.echo(datasets.export(name, out))


@app.command("make-speech")
def make_speech(out: Path = typer.Argument(..., help="Folder to write wav/ and manifest.csv into."),
                digits: int = typer.Option(1200, "--digits", help="Digit-string utterances (1-7 digits)."),
                commands: int = typer.Option(400, "--commands", help="Voice-command utterances."),
                snr: list[float] = typer.Option(None, "--snr", help="Also write a noisy copy at this SNR in dB "
                                                "(repeatable; default: --snr 20 --snr 10)."),
                no_clean: bool = typer.Option(False, "--no-clean", help="Do not write the clean copies."),
                seed: int = typer.Option(0, "--seed", help="Random seed: the same seed gives the same corpus."),
                workers: int = typer.Option(2, "--workers", help="Synthesis processes run at once.")) -> None:
    """Synthesise spoken digits and commands with espeak-ng, flite and sox.

    Each utterance is written clean and with noise at each --snr; dev and test hold out whole voices.

    Needs: sudo apt-get install espeak-ng flite sox

    Example: rnnkit datasets make-speech speech --digits 1200 --commands 400 --snr 20 --snr 10
    """
    import pandas as pd

    from rnnkit.cli.tables import print_table
    from rnnkit.data.speech import SPLITS, make_speech_corpus

    snrs = ([] if no_clean else [None]) + list(snr or [20.0, 10.0])
    manifest = make_speech_corpus(out, n_digits=digits, n_commands=commands, snrs=tuple(snrs), seed=seed,
                                  workers=workers, progress=True)
    clean = manifest.drop_duplicates("utt")  # one row per utterance, whatever the copies
    counts = clean.groupby(["split", "voice"]).agg(utterances=("utt", "size"), seconds=("seconds", "sum"))
    counts["files"] = manifest.groupby(["split", "voice"]).size()
    counts = counts.reindex(sorted(counts.index, key=lambda k: (SPLITS.index(k[0]), k[1])))
    counts.index = pd.Index([f"{split} {voice}" for split, voice in counts.index], name="split voice")
    totals = clean.groupby("split").agg(voices=("voice", "nunique"), utterances=("utt", "size"),
                                        minutes=("seconds", lambda s: round(s.sum() / 60, 1)))
    totals["files"] = manifest.groupby("split").size()
    totals = totals.reindex([s for s in SPLITS if s in totals.index])
    totals.index.name = "split"
    print_table(counts[["utterances", "files", "seconds"]].astype(object), "utterances per voice")
    print_table(totals[["voices", "utterances", "files", "minutes"]].astype(object), "utterances per split")
    typer.echo(f"wrote {len(manifest)} WAV files and {Path(out) / 'manifest.csv'}")
