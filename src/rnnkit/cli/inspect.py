"""``rnnkit inspect MODEL INPUT``: the unrolled network of a trained model, as pictures.

INPUT is a CSV file for a forecaster (its last ``lookback`` rows are read), and a text —
or a path to a UTF-8 text file, or ``-`` for stdin — for a text classifier or translator.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from rnnkit.errors import DataError, problem


def _text_input(value: str) -> str:
    from rnnkit.data.text.reading import read_text

    if value == "-":
        return sys.stdin.read().strip()
    path = Path(value)
    if len(value) < 4096 and path.suffix in (".txt", ".text") and path.is_file():
        return read_text(path).strip()
    return value


def inspect(model: Path = typer.Argument(..., help="Model file (.rnnkit): forecaster, text classifier or seq2seq."),
            input: str = typer.Argument(..., help="Forecaster: a CSV file. Text models: the text, a .txt "
                                        "file or '-' for stdin."),
            out: Path = typer.Option(Path("inspect"), "--out", help="Folder for the PNGs, arrays.npz and index.html."),
            series: str = typer.Option(None, "--series", help="Forecaster: the series id to inspect "
                                       "(default: the first).")) -> None:
    """Draw the unrolled network on one input: hidden state and gates over time, cell
    state, attention map, and the gradient reaching each earlier step.

    Example: rnnkit inspect weather.rnnkit seattle-weather.csv --out inspect-weather
    """
    import rnnkit
    from rnnkit.inspect import inspect as run_inspect

    est = rnnkit.load(model)
    if type(est).__name__ == "Forecaster":
        path = Path(input)
        if not path.is_file():
            raise DataError(problem("rnnkit inspect: INPUT", expected="a CSV file for a forecaster",
                                    got=repr(input), fix="pass the series as a CSV path"))
        report = run_inspect(est, path, **({"series": series} if series is not None else {}))
    else:
        report = run_inspect(est, _text_input(input))
    paths = report.save(out)
    typer.echo(f"wrote {len(report.figures)} pictures, arrays.npz and {paths['html']}")
    for name, caption in report.captions.items():
        typer.echo(f"  {name}.png: {caption}")


def register(app: typer.Typer) -> None:
    app.command("inspect")(inspect)
