"""``rnnkit`` command line: a thin layer over the same Python calls.

Every command's ``--help`` ends with an example. Errors that rnnkit raises on purpose
(:class:`rnnkit.errors.RnnkitError`) print one clear line and exit with status 2, never a
traceback (advice worded for Python, such as ``encoding="latin-1"``, names the command's
flag instead when it has one: ``--encoding latin-1``). Warnings meant for the user (``UserWarning``: an over-long text cut, a truncated
WAV file, texts of unknown tokens only) print as one ``warning: ...`` line on stderr, without
the source line of the library that happened to call the model.
"""

from __future__ import annotations

import sys
import warnings

import typer

from rnnkit._version import __version__
from rnnkit.cli import (
    compare as compare_cmd,
    datasets as datasets_cmd,
    export as export_cmd,
    generate as generate_cmd,
    inspect as inspect_cmd,
    models as models_cmd,
    quickstart as quickstart_cmd,
    serve as serve_cmd,
    sign as sign_cmd,
    transcribe as transcribe_cmd,
    translate as translate_cmd,
    tune as tune_cmd,
    watch as watch_cmd,
)
from rnnkit.cli.advice import command_flags, for_the_shell
from rnnkit.errors import RnnkitError

app = typer.Typer(
    name="rnnkit",
    help="Recurrent neural networks (RNN, LSTM, GRU) from sequence data to a trained, "
         "evaluated and deployed model.\n\nExample: rnnkit quickstart",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rnnkit {__version__}")
        raise typer.Exit()


@app.callback()
def root(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                      help="Print the version and exit.")) -> None:
    """rnnkit: sequence data to a trained, evaluated and deployed recurrent model."""


app.command("quickstart")(quickstart_cmd.quickstart)
app.command("watch")(watch_cmd.watch)
app.add_typer(datasets_cmd.app, name="datasets")
models_cmd.register(app)
serve_cmd.register(app)
export_cmd.register(app)
generate_cmd.register(app)
translate_cmd.register(app)
transcribe_cmd.register(app)
compare_cmd.register(app)
tune_cmd.register(app)
inspect_cmd.register(app)
sign_cmd.register(app)


_PYTHON_FORMAT = warnings.formatwarning


def format_warning(message, category, filename, lineno, line=None) -> str:
    """``warnings.formatwarning`` for the command line. A ``UserWarning`` is addressed to
    the person at the shell, so its file and line (often a frame inside typer) are left
    out. Other categories, such as deprecations and numerical ``RuntimeWarning``, keep
    Python's format."""
    if issubclass(category, UserWarning):
        return f"warning: {message}\n"
    return _PYTHON_FORMAT(message, category, filename, lineno, line)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``rnnkit`` console script; returns the exit status."""
    before, warnings.formatwarning = warnings.formatwarning, format_warning
    try:
        return _run(argv)
    finally:
        warnings.formatwarning = before


def _run(argv: list[str] | None) -> int:
    try:
        code = app(args=argv, standalone_mode=False)
    except RnnkitError as err:
        flags = command_flags(typer.main.get_command(app), sys.argv[1:] if argv is None else argv)
        typer.echo(f"error: {for_the_shell(str(err), flags)}", err=True)
        return 2
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    except typer.Exit as done:
        return done.exit_code
    except Exception as err:
        # usage errors of the (vendored) click inside typer: show the message, no traceback
        if callable(getattr(err, "show", None)) and hasattr(err, "exit_code"):
            err.show()
            return err.exit_code
        if type(err).__name__ == "Abort":
            return 1
        raise
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
