"""``rnnkit quickstart``: the main job on bundled real data, no arguments needed."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

import typer

from rnnkit.cli.tables import print_table
from rnnkit.tasks.forecast import quickstart as recipe


def quickstart(
    out: Path = typer.Option(Path("quickstart-out"), "--out", help="Folder for the model file and plot."),
    epochs: int = typer.Option(40, help="Upper bound on training epochs (early stopping ends sooner)."),
    origins: int = typer.Option(20, help="Backtest origins: weekly forecasts scored at the end."),
    cell: str = typer.Option("lstm", help="Recurrent cell: lstm, gru or rnn."),
    seed: int = typer.Option(0, help="Random seed."),
) -> None:
    """Forecast Seattle's daily max temperature a week ahead with an LSTM, backtest it
    against naive, seasonal-naive, drift and ETS baselines, and save the model.

    Example: rnnkit quickstart --out quickstart-out
    """
    typer.echo("rnnkit quickstart: Seattle weather (1461 days), forecast temp_max 7 days ahead")
    res = recipe.run(out, origins=origins, epochs=epochs, cell=cell, seed=seed)
    print_table(res.table, f"Backtest over the last {origins} weeks (lower is better; coverage "
                           "target 0.80)", highlight="rnnkit")
    typer.echo(f"trained {res.epochs} epochs in {res.seconds:.0f} s")
    typer.echo(f"model file: {res.model_path}")
    typer.echo(f"plot:       {res.plot_path}")
    _print_next(res.model_path)


def _print_next(model_path: Path) -> None:
    """The next commands, typed the way that works here: ``./dev rnnkit ...`` when the dev
    script ran us (it sets RNNKIT_DEV to how it was called), else ``rnnkit ...``."""
    dev = os.environ.get("RNNKIT_DEV")
    rnnkit = f"{shlex.quote(dev)} rnnkit" if dev else "rnnkit"
    commands = recipe.next_commands(model_path, rnnkit=rnnkit)
    width = max(len(command) for command, _ in commands)
    typer.echo("\nNext, from this folder:")
    for command, comment in commands:
        typer.echo(f"  {command:<{width}}   # {comment}")
    if dev:
        activate = shlex.quote(os.path.relpath(Path(sys.prefix) / "bin" / "activate"))
        typer.echo(f"(or `source {activate}` once, then `rnnkit ...` for `{rnnkit} ...`)")
