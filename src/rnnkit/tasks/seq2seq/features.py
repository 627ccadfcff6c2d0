"""Texts -> tokens -> ids for the two sides of a sequence-to-sequence model.

Each side has its own :class:`~rnnkit.data.text.encoder.TextEncoder` (tokenizer, vocabulary
with ``<pad>`` 0, ``<unk>`` 1, ``<bos>`` 2, ``<eos>`` 3, and length policy). A chat source
may hold the previous turn and the message joined by :data:`SEP`
(``"context <sep> message"``): the pieces are tokenized apart and ``<sep>`` stays one
token with an id of its own. A text with no token other than ``<sep>`` is an error.
"""

from __future__ import annotations

from typing import Sequence

from rnnkit.data.text.encoder import TextEncoder
from rnnkit.data.text.tokenizers import make_tokenizer, tokenize_all
from rnnkit.data.text.vocab import RESERVED, Vocabulary
from rnnkit.errors import DataError, problem

SEP = "<sep>"  # joins the context turn and the message in a chat source


def fit_encoder(texts: Sequence[str], *, tokenizer: str, lowercase: bool, bpe_vocab_size: int,
                min_freq: int, max_vocab: int | None, max_length: int | None, overlong: str,
                where: str) -> TextEncoder:
    """A side's encoder learned on its training ``texts``."""
    pieces = [p for t in texts for p in t.split(SEP)]
    tok = make_tokenizer(tokenizer, lowercase=lowercase, bpe_vocab_size=bpe_vocab_size,
                         bpe_min_frequency=min_freq).fit(pieces)
    encoder = TextEncoder(tok, Vocabulary(RESERVED), max_length, overlong)
    lists = tokens(encoder, texts, where, cut=False)
    encoder.vocab = Vocabulary.build(lists, min_freq=min_freq, max_size=max_vocab)
    return encoder


def tokens(encoder: TextEncoder, texts: Sequence[str], where: str, cut: bool = True) -> list[list[str]]:
    """Every text's tokens (``<sep>`` kept whole), cut to the encoder's ``max_length`` (a
    warning or an error, by its ``overlong``) unless ``cut=False``."""
    if not any(SEP in t for t in texts):
        lists = tokenize_all(encoder.tokenizer, list(texts))
    else:
        lists = [_with_sep(encoder.tokenizer, t) for t in texts]
    for i, t in enumerate(lists):
        if all(tok == SEP for tok in t):
            raise DataError(problem(f"{where}: texts[{i}]", expected="a text with at least one "
                                    "token", got=f"{texts[i]!r} (no {encoder.tokenizer.kind} tokens)",
                                    fix="drop empty texts, or replace them with a placeholder"))
    return encoder.fit_length(lists, where) if cut else lists


def _with_sep(tokenizer, text: str) -> list[str]:
    out: list[str] = []
    for i, piece in enumerate(text.split(SEP)):
        out += ([SEP] if i else []) + tokenizer.tokenize(piece)
    return out


def encode(encoder: TextEncoder, texts: Sequence[str], where: str) -> list[list[int]]:
    """Ids of every text (see :func:`tokens`)."""
    return [encoder.vocab.encode(t) for t in tokens(encoder, texts, where)]
