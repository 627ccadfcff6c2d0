"""``rnnkit translate MODEL "text"`` and ``rnnkit chat MODEL``: sequence-to-sequence models.

``translate`` prints one output line per input (the text argument, ``--file`` lines, or
stdin lines with ``-``). ``chat`` reads messages from stdin, one a line, until end of input
or ``/quit``, and answers each (the bot's previous reply is the context of the next
message): on a terminal it prompts ``you> `` and prints ``bot> REPLY``; with piped input it
prints only the replies, one line per message, so it can be scripted. Errors (a model of
another task, an empty text, a file that is not UTF-8) print one line on stderr and exit
with status 2, never a traceback; in ``chat`` a refused message prints its error on stderr
and the loop goes on.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import typer

from rnnkit.cli.advice import for_the_shell
from rnnkit.errors import ConfigError, DataError, RnnkitError, problem

QUIT = "/quit"
PROMPT = "you> "


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


def chat(model: Path = typer.Argument(..., help="Seq2Seq chat model file (.rnnkit)."),
         temperature: float = typer.Option(0.8, "--temperature", "-t", help="Sampling temperature; "
                                           "0 = greedy."),
         top_k: int = typer.Option(None, "--top-k", help="Sample among the k most probable tokens."),
         top_p: float = typer.Option(0.9, "--top-p", help="Nucleus sampling mass (1 = off)."),
         seed: int = typer.Option(None, "--seed", help="Seed: the same seed and messages give the "
                                  "same replies."),
         beam: int = typer.Option(None, "--beam", "-b", help="Search replies by beam instead of "
                                  "sampling."),
         context: bool = typer.Option(True, "--context/--no-context", help="Give the model the "
                                      "previous reply as context."),
         no_repeat: int = typer.Option(None, "--no-repeat-ngram", help="No n-gram of this size "
                                       "twice in a reply (0 = off; default the model's).")) -> None:
    """Chat with a sequence-to-sequence model: type a message per line; /quit or end of input stops.

    On a terminal: a "you> " prompt and "bot> REPLY" lines. Piped: one reply per message line.

    Example: rnnkit chat chitchat.rnnkit --temperature 0.7 --top-p 0.9 --seed 1
    """
    try:
        est = _load(model, "chat")
        decoding_check(temperature, top_k, top_p, seed, beam, no_repeat)
    except RnnkitError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2)
    terminal = sys.stdin.isatty()
    if terminal:
        typer.echo(f"chat with {model.name}; type {QUIT} or press Ctrl-D to stop", err=True)
    chat_loop(est, _prompted_lines() if terminal else sys.stdin,
              (lambda reply: typer.echo(f"bot> {reply}")) if terminal else typer.echo,
              temperature=temperature, top_k=top_k, top_p=top_p, seed=seed, beam=beam,
              context=context, no_repeat=no_repeat)


def _prompted_lines():
    """Lines typed at a ``you> `` prompt, until end of input (Ctrl-D)."""
    while True:
        try:
            yield input(PROMPT)
        except EOFError:
            typer.echo("")  # end the prompt's line
            return


def decoding_check(temperature, top_k, top_p, seed, beam, no_repeat=None) -> None:
    from rnnkit.tasks.common.sampling import check_sampling
    from rnnkit.tasks.core import Int

    check_sampling(temperature, top_k, top_p, seed, "rnnkit chat")
    Int(1, optional=True)("rnnkit chat", "beam", beam)
    Int(0, optional=True)("rnnkit chat", "no_repeat_ngram_size", no_repeat)


def chat_loop(est, lines, say, complain=None, *, temperature: float = 0.8, top_k: int | None = None,
              top_p: float | None = 0.9, seed: int | None = None, beam: int | None = None,
              context: bool = True, no_repeat: int | None = None) -> list[tuple[str, str]]:
    """Answer each line of ``lines`` until ``/quit`` (blank lines are skipped): ``say(reply)``
    per message, ``complain(line)`` with the ``error: ...`` line of a message the model
    refuses (default: on stderr), and the loop goes on. Returns the ``(message, reply)``
    turns. The n-th reply uses seed ``seed + n`` (so a session replays exactly with one seed)."""
    complain = complain or (lambda line: typer.echo(line, err=True))
    previous, turns = None, []
    for line in lines:
        message = line.strip()
        if message == QUIT:
            break
        if not message:
            continue
        try:
            answer = est.reply(message, previous if context else None, temperature=temperature,
                               top_k=top_k, top_p=top_p, beam=beam, no_repeat_ngram_size=no_repeat,
                               seed=None if seed is None else seed + len(turns))
        except RnnkitError as err:
            complain(f"error: {err}")
            continue
        say(answer)
        previous = answer
        turns.append((message, answer))
    return turns


def register(app: typer.Typer) -> None:
    app.command("translate")(translate)
    app.command("chat")(chat)
