"""``TextEncoder``: texts -> token ids, the whole preprocessing of a text model in one object.

    text --tokenizer--> tokens --truncate to max_length--> tokens --vocabulary--> ids

Fitting learns the tokenizer (BPE only) and the :class:`Vocabulary` from the training
texts. A text longer than ``max_length`` tokens keeps its first ``max_length``
(``overlong="truncate"``, one warning per call that counts them) or fails
(``overlong="error"``). A text with no token at all (``""``, only spaces) is an error:
there is nothing to classify. Its state saves as one JSON-able dict.
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from typing import Sequence

import numpy as np

from rnnkit.data.text.tokenizers import make_tokenizer, tokenize_all, tokenizer_from_dict
from rnnkit.data.text.vocab import RESERVED, UNK_ID, Vocabulary
from rnnkit.errors import DataError, problem

OVERLONG = ("truncate", "error")
_PACKAGE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # .../rnnkit


def warn_user(message: str) -> None:
    """A ``UserWarning`` attributed to the first caller outside rnnkit (the user's line)."""
    frame, level = sys._getframe(1), 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, UserWarning, stacklevel=level)


class TextEncoder:
    """Tokenizer + vocabulary + length policy. Build with :meth:`fit` or :meth:`from_dict`."""

    def __init__(self, tokenizer, vocab: Vocabulary, max_length: int | None = None,
                 overlong: str = "truncate") -> None:
        self.tokenizer, self.vocab = tokenizer, vocab
        self.max_length, self.overlong = max_length, overlong

    @classmethod
    def fit(cls, texts: Sequence[str], *, tokenizer: str = "word", lowercase: bool = True,
            bpe_vocab_size: int = 8000, min_freq: int = 1, max_vocab: int | None = None,
            max_length: int | None = None, overlong: str = "truncate",
            where: str = "TextEncoder.fit", bpe_word_ends: bool = True) -> "TextEncoder":
        tok = make_tokenizer(tokenizer, lowercase=lowercase, bpe_vocab_size=bpe_vocab_size,
                             bpe_min_frequency=min_freq, bpe_word_ends=bpe_word_ends).fit(texts)
        self = cls(tok, Vocabulary(RESERVED), max_length, overlong)
        tokens = self.tokens(texts, where, cut=False)  # every token counts for the vocabulary
        self.vocab = Vocabulary.build(tokens, min_freq=min_freq, max_size=max_vocab)
        return self

    def tokens(self, texts: Sequence[str], where: str, cut: bool = True) -> list[list[str]]:
        """Every text's tokens, cut to ``max_length`` (or an error, see the module doc)
        unless ``cut=False``."""
        lists = tokenize_all(self.tokenizer, list(texts))
        for i, t in enumerate(lists):
            if not t:
                raise DataError(problem(f"{where}: texts[{i}]", expected="a text with at least one "
                                        "token", got=f"{texts[i]!r} (no {self.tokenizer.kind} tokens)",
                                        fix="drop empty texts, or replace them with a placeholder"))
        return self.fit_length(lists, where) if cut else lists

    def fit_length(self, lists: list[list[str]], where: str) -> list[list[str]]:
        """Token lists cut to ``max_length`` (``overlong="truncate"``, one warning per call)
        or refused (``overlong="error"``); unchanged when none is longer."""
        limit = self.max_length
        if limit is None:
            return lists
        long = [i for i, t in enumerate(lists) if len(t) > limit]
        if not long:
            return lists
        if self.overlong == "error":
            i = long[0]
            raise DataError(problem(f"{where}: texts[{i}] length", expected=f"at most max_length="
                                    f"{limit} tokens", got=f"{len(lists[i])} tokens ({len(long)} "
                                    f"texts too long)", fix="shorten the texts, raise max_length, "
                                    "or set overlong='truncate'"))
        warn_user(f"{where}: {len(long)} of {len(lists)} texts are longer than max_length={limit} "
                  f"tokens (the longest has {max(len(lists[i]) for i in long)}) and keep only "
                  f"their first {limit} tokens (set overlong='error' to refuse them)")
        return [t[:limit] for t in lists]

    def encode(self, texts: Sequence[str], where: str = "TextEncoder.encode") -> list[list[int]]:
        """Token ids of every text, after truncation."""
        return [self.vocab.encode(t) for t in self.tokens(texts, where)]

    def check_ids(self, id_lists, where: str) -> list[list[int]]:
        """Validated id lists (as from :meth:`encode`): non-empty, ints in ``[0, V)``, and
        the length policy applied."""
        V = len(self.vocab)
        out = []
        for i, ids in enumerate(id_lists):
            arr = np.asarray(ids)
            if arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iu":
                raise DataError(problem(f"{where}: ids[{i}]", expected="a non-empty list of int "
                                        "token ids (from encode)", got=repr(ids)[:60]))
            if arr.min() < 0 or arr.max() >= V:
                raise DataError(problem(f"{where}: ids[{i}]", expected=f"ids in [0, {V})",
                                        got=f"{int(arr.min())}..{int(arr.max())}",
                                        fix="encode the texts with this model's encode()"))
            out.append(arr.tolist())
        return self.fit_length(out, where)

    @staticmethod
    def stats(id_lists: Sequence[Sequence[int]]) -> dict:
        """Input statistics for drift monitoring, from encoded texts (after truncation, as
        the model sees them): the mean and standard deviation of the token count per text
        and the share of tokens that are ``<unk>``."""
        counts = np.array([len(x) for x in id_lists], dtype=np.float64)
        total = counts.sum()
        unknown = sum(int(np.count_nonzero(np.asarray(x) == UNK_ID)) for x in id_lists)
        return {"tokens": {"mean": float(counts.mean()), "std": float(counts.std())},
                "unknown_rate": float(unknown / total) if total else math.nan}

    def to_dict(self) -> dict:
        return {"tokenizer": self.tokenizer.to_dict(), "vocabulary": self.vocab.to_dict(),
                "max_length": self.max_length, "overlong": self.overlong}

    @classmethod
    def from_dict(cls, d: dict) -> "TextEncoder":
        return cls(tokenizer_from_dict(d["tokenizer"]), Vocabulary.from_dict(d["vocabulary"]),
                   d["max_length"], d["overlong"])
