"""Printing what ``rnnkit evaluate`` scored: the table (or JSON), and which rows it scored."""

from __future__ import annotations

import pandas as pd
import typer

from rnnkit.cli.tables import print_table


def show_scores(table: pd.DataFrame, title: str, note: str | None, json_out: bool, *,
                highlight: str | None = "rnnkit") -> None:
    """``table`` as a terminal table titled ``title`` (as JSON with ``json_out``), then, when
    only part of the data was scored, a line naming it (``note``; on stderr with JSON, so
    stdout stays JSON)."""
    if json_out:
        typer.echo(table.to_json(orient="index"))
    else:
        print_table(table, title, highlight=highlight)
    if note:
        typer.echo(f"scored {note}; --split all: every row",
                   err=json_out)
