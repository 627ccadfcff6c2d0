"""Printing metric tables on the terminal (rich)."""

from __future__ import annotations

import math

import pandas as pd
from rich.console import Console
from rich.table import Table


def print_table(frame: pd.DataFrame, title: str, *, highlight: str | None = None,
                lower_is_better: tuple[str, ...] = ("MAE", "RMSE", "MAPE", "sMAPE", "MASE")) -> None:
    """Print ``frame`` (rows = models) with the best value of each metric in bold."""
    table = Table(title=title)
    table.add_column(frame.index.name or "")
    for col in frame.columns:
        table.add_column(str(col), justify="right")
    best = {c: frame[c].min() for c in frame.columns if c in lower_is_better}
    for name, row in frame.iterrows():
        cells = []
        for col, value in row.items():
            text = "-" if isinstance(value, float) and math.isnan(value) else f"{value:.3f}" \
                if isinstance(value, float) else str(value)
            cells.append(f"[bold]{text}[/bold]" if col in best and value == best[col] else text)
        style = "cyan" if name == highlight else None
        table.add_row(str(name), *cells, style=style)
    Console().print(table)
