"""``rnnkit watch MODEL --input FILE|-``: score a live stream, one JSON event per anomaly.

Reading, parsing and scoring live in :mod:`rnnkit.tasks.anomaly.watching`; this command
only opens the input, prints events to stdout and problems to stderr (never a
traceback), and sets the exit status: 0 when the input ends, 2 on an unusable input or,
with ``--on-error stop``, on the first bad line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from rnnkit.errors import RnnkitError

ON_ERROR = ("skip", "stop")


def watch(model: Path = typer.Argument(..., help="Anomaly model file (.rnnkit) from AnomalyDetector.save."),
          input: str = typer.Option("-", "--input", "-i", help="CSV (header with the training column "
                                    "names) or JSON lines, one time step per line; '-' reads stdin."),
          on_error: str = typer.Option("skip", "--on-error", help="A bad line: 'skip' it (a message on "
                                       "stderr) or 'stop' with exit status 2."),
          every_step: bool = typer.Option(False, "--every-step", help="Print an event for every step, "
                                          "not only anomalies.")) -> None:
    """Watch a stream as it arrives and print one JSON event per anomalous step
    (line, index, time, score, threshold, channels).

    Example: rnnkit watch sensors.rnnkit --input sensors.csv

    Live: tail -n +1 -f sensors.csv | rnnkit watch sensors.rnnkit --input -
    """
    if on_error not in ON_ERROR:
        _fail(f"--on-error must be one of {', '.join(ON_ERROR)}, got {on_error!r}")
    detector = _load(model)
    from rnnkit.tasks.anomaly.watching import LineProblem, watch_lines

    with _open(input) as lines:
        try:
            for item in watch_lines(detector, lines):
                if isinstance(item, LineProblem):
                    if on_error == "stop":
                        _fail(f"{item}; stopped (--on-error stop)")
                    typer.echo(f"warning: {item}; skipped", err=True)
                elif every_step or item.result.anomaly:
                    typer.echo(json.dumps(item.to_dict()))
        except RnnkitError as err:
            _fail(str(err))
        except UnicodeDecodeError as err:
            _fail(f"input is not UTF-8 text ({err.reason} at byte {err.start})")


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _load(model: Path):
    import rnnkit.tasks  # noqa: F401  (registers the tasks)
    from rnnkit.tasks.anomaly import AnomalyDetector
    from rnnkit.tasks.registry import load

    try:
        detector = load(model)
    except RnnkitError as err:
        _fail(str(err))
    except FileNotFoundError:
        _fail(f"model file {str(model)!r} does not exist (check the path)")
    if not isinstance(detector, AnomalyDetector):
        _fail(f"{model} holds a {getattr(detector, 'task_name', type(detector).__name__)!r} model; "
              "rnnkit watch needs an anomaly model (AnomalyDetector.save)")
    return detector


class _open:
    """Context manager over the input lines: a file, or stdin for '-'."""

    def __init__(self, source: str) -> None:
        self.source, self.file = source, None

    def __enter__(self):
        if self.source == "-":
            return iter(sys.stdin.readline, "")  # yields each line as soon as it arrives
        path = Path(self.source)
        if not path.exists():
            _fail(f"input file {self.source!r} does not exist (check the path, or use - for stdin)")
        self.file = path.open("r", newline="", encoding="utf-8")
        return self.file

    def __exit__(self, *exc) -> None:
        if self.file is not None:
            self.file.close()


def _standalone() -> None:  # python -m rnnkit.cli.watch, before it is registered in cli/main.py
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(watch)
    app()


if __name__ == "__main__":
    _standalone()
