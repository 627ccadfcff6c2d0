"""``rnnkit datasets list | export NAME | make-speech OUT``: the data sets that work offline."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from rnnkit.data import datasets

app = typer.Typer(help="Real data sets that ship inside installed packages, and a synthetic speech "
                       "corpus (no network needed).\n\n"
                       "Example: rnnkit datasets export seattle-weather --out weather.csv",
                  no_args_is_help=True)


@app.command("list")
def list_datasets() -> None:
    """List the data sets, their package and columns.

    Example: rnnkit datasets list
    """
    table = Table(title="rnnkit data sets")
    for column in ("name", "kind", "package", "time", "targets", "description"):
        table.add_column(column)
    for info in datasets.REGISTRY.values():
        table.add_row(info.name, info.kind, info.package, info.time or "",
                      ", ".join(info.targets), info.description)
    Console().print(table)


@app.command("export")
def export(name: str = typer.Argument(..., help="Data set name (see: rnnkit datasets list)."),
           out: Path = typer.Option(None, "--out", "-o", help="CSV file to write (default NAME.csv).")) -> None:
    """Write a data set to CSV.

    Example: rnnkit datasets export seattle-weather --out weather.csv
    """
    frame = datasets.load(name)
    path = out or Path(f"{name}.csv")
    frame.to_csv(path, index=False)
    typer.echo(f"wrote {len(frame)} rows x {frame.shape[1]} columns to {path}")


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
