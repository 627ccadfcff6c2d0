"""``rnnkit chat MODEL``: talk to a chat model, a message per line.

Two kinds of model answer:

- a retrieval chatbot (:class:`~rnnkit.ChatModel`, task ``chat``) picks each reply from
  its bank of real replies, given the message and the conversation so far (the last
  :data:`CONTEXT_TURNS` turns, messages and replies, oldest first, of which the model
  reads its last ``context_turns``); ``--temperature`` (0: the best reply; more: a sample
  among the best 10), ``--seed`` and ``--rerank SEQ2SEQ_MODEL`` (a chat Seq2Seq rescores
  the best ``--rerank-top`` replies by log-likelihood) shape the choice (see
  :meth:`rnnkit.ChatModel.replies`; its ``diversity`` orders a list of replies and leaves
  the first one as it is, so the one-reply loop has no such option);
- a generator (:class:`~rnnkit.Seq2Seq` trained for chat) writes each reply token by token
  (sampled with ``--temperature`` 0.8 and ``--top-p`` 0.9 unless told otherwise, or by
  ``--beam``), with the bot's previous reply as context.

The loop reads stdin until end of input or ``/quit``: on a terminal it prompts ``you> ``
and prints ``bot> REPLY``; with piped input it prints only the replies, one line per
message, so it can be scripted. Blank lines are skipped. A model file of another task, or
an option the model's kind does not take, prints one line on stderr and exits with status
2; a message the model refuses (say, one with nothing it can read) prints its ``error:``
line on stderr and the loop goes on. The n-th reply uses seed ``seed + n``, so a session
replays exactly with one seed.
"""

from __future__ import annotations

import sys
from collections import deque
from pathlib import Path

import typer

from rnnkit.errors import ConfigError, RnnkitError, problem

QUIT = "/quit"
PROMPT = "you> "
CONTEXT_TURNS = 10  # earlier turns a retrieval chat keeps (the model reads its last context_turns)
SEQ2SEQ_DEFAULTS = {"temperature": 0.8, "top_p": 0.9}
SEQ2SEQ_ONLY = ("top_k", "top_p", "beam", "no_repeat")
RETRIEVAL_ONLY = ("rerank", "rerank_top")


def chat(model: Path = typer.Argument(..., help="Chat model file (.rnnkit): a retrieval ChatModel "
                                      "(task chat) or a Seq2Seq chat model."),
         temperature: float = typer.Option(None, "--temperature", "-t", help="Seq2Seq: sampling "
                                           "temperature (default 0.8; 0 = greedy). ChatModel: 0 "
                                           "(default) answers the best reply, more samples among "
                                           "the best 10."),
         top_k: int = typer.Option(None, "--top-k", help="Seq2Seq: sample among the k most "
                                   "probable tokens."),
         top_p: float = typer.Option(None, "--top-p", help="Seq2Seq: nucleus sampling mass "
                                     "(default 0.9; 1 = off)."),
         seed: int = typer.Option(None, "--seed", help="Seed: the same seed and messages give the "
                                  "same replies."),
         beam: int = typer.Option(None, "--beam", "-b", help="Seq2Seq: search replies by beam "
                                  "instead of sampling."),
         context: bool = typer.Option(True, "--context/--no-context", help="Give the model the "
                                      "conversation so far (Seq2Seq: the previous reply)."),
         no_repeat: int = typer.Option(None, "--no-repeat-ngram", help="Seq2Seq: no n-gram of "
                                       "this size twice in a reply (0 = off; default the model's)."),
         rerank: Path = typer.Option(None, "--rerank", help="ChatModel: a Seq2Seq chat model file "
                                     "that reranks the top replies by log-likelihood."),
         rerank_top: int = typer.Option(None, "--rerank-top", help="ChatModel: how many top "
                                        "replies --rerank scores (default 10).")) -> None:
    """Chat with a model: type a message per line; /quit or end of input stops.

    On a terminal: a "you> " prompt and "bot> REPLY" lines. Piped: one reply per message line.

    Example: rnnkit chat runs/chat-retrieval/model.rnnkit --temperature 0.3 --seed 0
    """
    options = dict(temperature=temperature, top_k=top_k, top_p=top_p, seed=seed, beam=beam,
                   no_repeat=no_repeat, rerank=rerank, rerank_top=rerank_top)
    try:
        est, settings = prepare(model, options)
    except RnnkitError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2)
    terminal = sys.stdin.isatty()
    if terminal:
        typer.echo(f"chat with {model.name}; type {QUIT} or press Ctrl-D to stop", err=True)
    loop = chat_loop if est.task_name == "seq2seq" else retrieval_loop
    loop(est, _prompted_lines() if terminal else sys.stdin,
         (lambda reply: typer.echo(f"bot> {reply}")) if terminal else typer.echo,
         context=context, **settings)


def prepare(model: Path, options: dict) -> tuple[object, dict]:
    """The model of ``model`` and the settings of its loop: the options given (not None)
    that its kind takes, checked; one it does not take is refused with one line."""
    import rnnkit
    from rnnkit.tasks.chat import ChatModel
    from rnnkit.tasks.seq2seq import Seq2Seq

    est = rnnkit.load(model)
    if not isinstance(est, (ChatModel, Seq2Seq)):
        raise ConfigError(problem(f"rnnkit chat: model file {str(model)!r}", expected="a chat model "
                                  "(task 'chat', or a Seq2Seq trained for chat)",
                                  got=f"task {getattr(est, 'task_name', type(est).__name__)!r}",
                                  fix="train one with rnnkit train examples/chat_retrieval.toml"))
    given = {name: value for name, value in options.items() if value is not None}
    retrieval = isinstance(est, ChatModel)
    other = SEQ2SEQ_ONLY if retrieval else RETRIEVAL_ONLY
    for name in other:
        if name in given:
            flag = "--" + name.replace("_", "-")
            kind = "a retrieval ChatModel" if retrieval else "a Seq2Seq chat model"
            raise ConfigError(problem(f"rnnkit chat: {flag}", expected=f"an option that {kind} takes",
                                      got=f"{flag} {given[name]}", fix=f"leave {flag} out"))
    if retrieval:
        retrieval_check(given)
        if "rerank" in given:
            given["rerank"] = load_reranker(given["rerank"])
        return est, given
    settings = {**SEQ2SEQ_DEFAULTS, **given}
    decoding_check(settings["temperature"], settings.get("top_k"), settings["top_p"],
                   settings.get("seed"), settings.get("beam"), settings.get("no_repeat"))
    return est, settings


def retrieval_check(settings: dict) -> None:
    """Refuse a bad ``temperature``, ``seed`` or ``rerank_top`` before the first message (the
    ranges of :meth:`rnnkit.ChatModel.replies`)."""
    from rnnkit.tasks.core import Int, Real

    who = "rnnkit chat"
    Int(1, 1000, optional=True)(who, "rerank_top", settings.get("rerank_top"))
    Int(0, optional=True)(who, "seed", settings.get("seed"))
    Real(0.0, optional=True)(who, "temperature", settings.get("temperature"))


def load_reranker(path: Path):
    """The Seq2Seq chat model of ``path`` that ``--rerank`` names (refused unless it is one)."""
    from rnnkit.cli.loading import load_task_model
    from rnnkit.tasks.seq2seq import Seq2Seq

    fix = "train one with rnnkit train examples/chat.toml"
    est = load_task_model(path, Seq2Seq, "chat --rerank", "a Seq2Seq chat model (task 'seq2seq')", fix)
    if not est.is_chat or not callable(getattr(est, "log_likelihood", None)):
        raise ConfigError(problem(f"rnnkit chat --rerank {str(path)!r}", expected="a Seq2Seq chat model "
                                  "(one with log_likelihood)", got="a translation model" if not
                                  est.is_chat else "a model without log_likelihood", fix=fix))
    return est


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


def _messages(lines):
    """The stripped, non-blank lines of ``lines`` until ``/quit``."""
    for line in lines:
        message = line.strip()
        if message == QUIT:
            return
        if message:
            yield message


def retrieval_loop(est, lines, say, complain=None, *, context: bool = True, seed: int | None = None,
                   turns: int = CONTEXT_TURNS, **options) -> list[tuple[str, str]]:
    """Answer each line of ``lines`` with ``est.reply`` of a :class:`~rnnkit.ChatModel` until
    ``/quit`` (blank lines skipped): ``say(reply)`` per message, ``complain(line)`` with the
    ``error: ...`` line of a refused message (default: on stderr; the loop goes on).
    ``context``: each message comes with the last ``turns`` turns of the conversation
    (messages and replies, oldest first). ``options``: ``temperature``, ``rerank``,
    ``rerank_top`` (and any other option) of :meth:`~rnnkit.ChatModel.reply`.
    Returns the ``(message, reply)`` pairs."""
    complain = complain or (lambda line: typer.echo(line, err=True))
    history: deque[str] = deque(maxlen=turns)
    pairs: list[tuple[str, str]] = []
    for message in _messages(lines):
        try:
            answer = est.reply(message, list(history) if context and history else None,
                               seed=None if seed is None else seed + len(pairs), **options)
        except RnnkitError as err:
            complain(f"error: {err}")
            continue
        say(answer)
        history.extend((message, answer))
        pairs.append((message, answer))
    return pairs


def chat_loop(est, lines, say, complain=None, *, temperature: float = 0.8, top_k: int | None = None,
              top_p: float | None = 0.9, seed: int | None = None, beam: int | None = None,
              context: bool = True, no_repeat: int | None = None) -> list[tuple[str, str]]:
    """Answer each line of ``lines`` with a Seq2Seq chat model until ``/quit`` (blank lines
    are skipped): ``say(reply)`` per message, ``complain(line)`` with the ``error: ...`` line
    of a message the model refuses (default: on stderr), and the loop goes on. Returns the
    ``(message, reply)`` turns. The n-th reply uses seed ``seed + n`` (so a session replays
    exactly with one seed)."""
    complain = complain or (lambda line: typer.echo(line, err=True))
    previous, turns = None, []
    for message in _messages(lines):
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
    app.command("chat")(chat)
