"""Example texts for a text model's OpenAPI page, in words the model knows.

A fixed example ("Wie geht es dir?") is wrong for most models: a chat bot is not a
translator, and an English-to-German model cannot read German. :func:`known_text` picks,
among a few candidates, the one the model's own tokenizer and vocabulary know best; when
none is known well enough (a model of another language or domain) it writes a text from
the model's most frequent vocabulary words instead.
"""

from __future__ import annotations

from rnnkit.data.text.vocab import RESERVED
from rnnkit.tasks.seq2seq.features import SEP

MAX_UNKNOWN = 0.25  # the share of unknown tokens a candidate may have
WORDS = 6  # tokens of a text made from the vocabulary


def unknown_rate(encoder, text: str) -> float:
    """The share of ``text``'s tokens that ``encoder`` maps to ``<unk>`` (1.0 for none)."""
    tokens = encoder.tokenizer.tokenize(text)
    return encoder.vocab.unknown_rate([tokens]) if tokens else 1.0


def known_text(encoder, candidates: list[str], words: int = WORDS) -> str:
    """The first of ``candidates`` with the fewest unknown tokens, if at most
    :data:`MAX_UNKNOWN` of them are unknown; else :func:`vocabulary_text`."""
    rates = [unknown_rate(encoder, t) for t in candidates]
    best = min(range(len(candidates)), key=rates.__getitem__, default=None)
    if best is not None and rates[best] <= MAX_UNKNOWN:
        return candidates[best]
    return vocabulary_text(encoder, words)


def vocabulary_text(encoder, words: int = WORDS) -> str:
    """The ``words`` most frequent word-like tokens of the vocabulary, as text (falling back
    to any tokens when it has no word-like ones)."""
    tokens = [t for t in encoder.vocab.tokens if t not in RESERVED and t != SEP]
    wordy = [t for t in tokens if _wordy(t)]
    text = encoder.tokenizer.detokenize((wordy or tokens)[:words]).strip()
    return text or "?"


def _wordy(token: str) -> bool:
    core = token.replace("</w>", "")
    return core.isalpha() or core == " "
