"""``rnnkit translate MODEL "text"``: sequence-to-sequence models (and, registered with it,
``rnnkit chat MODEL`` of :mod:`rnnkit.cli.chat`).

``translate`` prints one output line per input (the text argument, ``--file`` lines, or
stdin lines with ``-``). Errors (a model of another task, an empty text, a file that is not
UTF-8) print one line on stderr and exit with status 2, never a traceback.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import typer

from rnnkit.cli import chat as chat_cmd
from rnnkit.cli.advice import for_the_shell
from rnnkit.errors import ConfigError, DataError, RnnkitError, problem


def _load(model: Path, command: str):
    from rnnkit.cli.loading import load_task_model
    from rnnkit.tasks.seq2seq import Seq2Seq

    return load_task_model(model, Seq2Seq, command, "a sequence-to-sequence model (task 'seq2seq')",
                           "train one with rnnkit.Seq2Seq(...).fit(sources, targets).save(path)")


def translate(model: Path = typer.Argument(..., help="Seq2Seq model file (.rnnkit)."),
              text: str = typer.Argument(None, help="Text to translate; '-' reads lines from stdin."),
              file: Path = typer.Option(None, "--file", "-f", help="Translate every line of this file."),
              encoding: str = typer.Option("utf-8", "--encoding", help="Encoding of --file."),
              beam: int = typer.Option(None, "--beam", "-b", help="Beam width (1 = greedy; default "
                                       "the model's)."),
              alpha: float = typer.Option(None, "--alpha", help="Length-normalisation strength."),
              max_length: int = typer.Option(None, "--max-length", help="Most output tokens."),
              no_repeat: int = typer.Option(None, "--no-repeat-ngram", help="No n-gram of this "
                                            "size twice in an output (0 = off; default the model's)."),
              lexicon_bonus: float = typer.Option(None, "--lexicon-bonus", help="Push each source "
                                                  "word's lexicon translation until written by this "
                                                  "beta (0 = off; default the model's; needs a model "
                                                  "with lexicon_top_k).")
              ) -> None:
    """Translate text with a sequence-to-sequence model (task seq2seq).

    Example: rnnkit translate de-en.rnnkit "Ich bin müde." --beam 5
    """
    try:
        for line in run_translate(model, text, file, encoding, beam, alpha, max_length, no_repeat,
                                  lexicon_bonus):
            typer.echo(line)
    except RnnkitError as err:
        typer.echo(f"error: {for_the_shell(str(err), {'--encoding'})}", err=True)
        raise typer.Exit(2)


def run_translate(model: Path, text: str | None = None, file: Path | None = None,
                  encoding: str = "utf-8", beam: int | None = None, alpha: float | None = None,
                  max_length: int | None = None, no_repeat: int | None = None,
                  lexicon_bonus: float | None = None) -> list[str]:
    """What ``rnnkit translate`` prints, a line per input (the Python call behind it)."""
    from rnnkit.data.text.reading import read_text

    if (text is None) == (file is None):
        raise ConfigError(problem("rnnkit translate: input", expected="a TEXT argument or --file",
                                  got="both" if text is not None else "neither",
                                  fix='e.g. rnnkit translate model.rnnkit "Ich bin müde."'))
    if file is not None:
        lines = read_text(file, encoding).splitlines()
    elif text == "-":
        lines = sys.stdin.read().splitlines()
    else:
        lines = [text]
    lines = [line for line in lines if line.strip()] if file is not None or text == "-" else lines
    if not lines:
        raise DataError(problem("rnnkit translate: input", expected="at least one non-empty line",
                                got="none"))
    est = _load(model, "translate")
    if lexicon_bonus is not None:  # a decoding setting: checked like any other (lexicon, sign)
        decoding = dataclasses.replace(est.config.decoding_settings, lexicon_bonus=lexicon_bonus)
        est.set_params(decoding=decoding).config.validate()
    return est.translate(lines, beam=beam, alpha=alpha, max_length=max_length,
                         no_repeat_ngram_size=no_repeat)


def register(app: typer.Typer) -> None:
    """``rnnkit translate`` and ``rnnkit chat`` (:mod:`rnnkit.cli.chat`)."""
    app.command("translate")(translate)
    chat_cmd.register(app)
