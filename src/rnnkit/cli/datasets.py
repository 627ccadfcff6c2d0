"""``rnnkit datasets list | export NAME``: the real data sets that work offline."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from rnnkit.data import datasets

app = typer.Typer(help="Real data sets that ship inside installed packages (no network needed).\n\n"
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
