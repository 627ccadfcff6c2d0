"""Dialogue turns -> token ids: the context side and the reply side of the dual encoder.

A *context* is the earlier turns and the message. A message may carry earlier turns
joined by :data:`SEP` (``"previous turn <sep> message"``, the chitchat table's source
column), or they come apart (``contexts=[[turn, ...], ...]``, oldest first); both are
merged and the last ``context_turns`` earlier turns kept. The context's tokens are::

    turn_1 <sep> turn_2 <sep> ... <sep> message        (<sep> one token of its own)

cut from the LEFT to ``max_context_tokens`` (the recent words matter most). A reply's
tokens are cut from the right to ``max_reply_tokens``. One vocabulary serves both sides
(the embedding is shared). Work per text is bounded: before tokenizing, a turn keeps its
last (a reply its first) ``CHARS_PER_TOKEN * limit`` characters.
"""

from __future__ import annotations

from typing import Sequence

from rnnkit.data.text.encoder import TextEncoder
from rnnkit.data.text.tokenizers import make_tokenizer
from rnnkit.data.text.vocab import RESERVED, Vocabulary
from rnnkit.errors import DataError, problem

SEP = "<sep>"  # between turns of a context
CHARS_PER_TOKEN = 16  # a text keeps at most this many characters per token it may use


def split_turns(message: str, context, where: str, keep: int) -> list[str]:
    """The turns of one context, oldest first, the message last: ``context`` (None, a str or
    a list of str) then the ``<sep>``-joined pieces of ``message``, empty turns dropped,
    the last ``keep`` earlier turns kept.

    Raises:
        DataError: the message is not a str, or holds no text after its last ``<sep>``.
    """
    if not isinstance(message, str):
        raise DataError(problem(f"{where}: message", expected="a str", got=type(message).__name__))
    pieces = [p.strip() for p in message.split(SEP)]
    if not pieces[-1]:
        raise DataError(problem(f"{where}: message", expected="a text with at least one word",
                                got=repr(message[:60]), fix="send a non-empty message"))
    before = [p for p in _context_turns(context, where) + pieces[:-1] if p]
    return (before[-keep:] if keep else []) + [pieces[-1]]


def _context_turns(context, where: str) -> list[str]:
    if context is None:
        return []
    if isinstance(context, str):
        return [p.strip() for p in context.split(SEP)]
    try:
        turns = list(context)
    except TypeError:
        turns = None
    if turns is None or not all(isinstance(t, str) for t in turns):
        raise DataError(problem(f"{where}: context", expected="None, a str or a list of str "
                                "(earlier turns, oldest first)", got=type(context).__name__))
    return [p.strip() for t in turns for p in t.split(SEP)]


def all_turns(messages: Sequence[str], contexts, where: str, keep: int) -> list[list[str]]:
    """:func:`split_turns` of every message (``contexts`` None or one context per message)."""
    if contexts is not None:
        contexts = list(contexts)
        if len(contexts) != len(messages):
            raise DataError(problem(f"{where}: contexts", expected=f"one per message ({len(messages)})",
                                    got=len(contexts), fix="pass aligned lists, or contexts=None"))
    return [split_turns(m, None if contexts is None else contexts[i], f"{where} messages[{i}]", keep)
            for i, m in enumerate(messages)]


def fit_encoder(turn_lists: list[list[str]], replies: list[str], *, tokenizer: str, lowercase: bool,
                bpe_vocab_size: int, min_freq: int, max_vocab: int | None) -> TextEncoder:
    """One encoder (tokenizer + vocabulary, ``<sep>`` always in it) for both sides."""
    texts = [t for turns in turn_lists for t in turns] + list(replies)
    tok = make_tokenizer(tokenizer, lowercase=lowercase, bpe_vocab_size=bpe_vocab_size,
                         bpe_min_frequency=min_freq).fit(texts)
    lists = [tok.tokenize(t) for t in texts]
    vocab = Vocabulary.build(lists, min_freq=min_freq,
                             max_size=None if max_vocab is None else max_vocab - 1)
    words = [t for t in vocab.tokens[len(RESERVED):] if t != SEP]
    return TextEncoder(tok, Vocabulary([*RESERVED, SEP, *words], vocab.counts))


def context_ids(encoder: TextEncoder, turns: list[str], limit: int) -> list[int]:
    """Ids of ``turn_1 <sep> ... <sep> message``, its last ``limit`` tokens (never empty: a
    message with no token at all reads as ``<unk>``)."""
    tokens: list[str] = []
    budget = CHARS_PER_TOKEN * limit
    for i, turn in enumerate(reversed(turns)):  # newest first, so the cut falls on the oldest
        piece = encoder.tokenizer.tokenize(turn[-budget:]) + ([SEP] if i else [])
        tokens = piece + tokens
        if len(tokens) >= limit:
            break
    return encoder.vocab.encode(tokens[-limit:] or ["<unk>"])


def reply_ids(encoder: TextEncoder, reply: str, limit: int) -> list[int]:
    """Ids of a reply's first ``limit`` tokens (``<unk>`` for a reply without tokens)."""
    tokens = encoder.tokenizer.tokenize(reply[: CHARS_PER_TOKEN * limit])[:limit]
    return encoder.vocab.encode(tokens or ["<unk>"])


def context_text(turns: list[str]) -> str:
    """The turns as one text, ``"turn <sep> message"`` (what a reranking generator reads)."""
    return f" {SEP} ".join(turns)
