"""The word-by-word dictionary baseline for translation.

The dictionary is learned from the *training pairs* by IBM Model 1 word alignment (Brown
et al. 1993): translation probabilities ``t(e | f)`` of a target word ``e`` given a source
word ``f`` (or the empty word NULL), estimated by a few rounds of EM::

    E-step: for each pair and target word e: c(f, e) += t(e|f) / sum_{f' in x + NULL} t(e|f')
    M-step: t(e | f) = c(f, e) / sum_e' c(f, e')

(uniform start over co-occurring words). A source sentence is then translated one word
at a time: each known source word becomes its most probable target word
``argmax_e t(e | f)`` of the same kind (a word for a word, a punctuation mark for a
punctuation mark, so that NULL-like words do not all turn into ``.``), an unknown one is
copied as it is, and the first letter of the result is capitalised. Word order, agreement and idioms are ignored: this is the floor a
sequence-to-sequence model must clear. Nothing else (no test sentence, no other part of
the dictionary) is used.
"""

from __future__ import annotations

import re
from typing import Sequence

from rnnkit.data.text.tokenizers import WORD_PATTERN, join_words
from rnnkit.tasks.seq2seq.lexicon import ibm1

NAME = "word-by-word"
NULL = "\0NULL"
_WORDS = re.compile(WORD_PATTERN)


def _kind(token: str) -> bool:
    """True for a word (letters, digits), False for a punctuation mark or symbol."""
    return bool(re.match(r"\w", token))


class WordByWord:
    """IBM-Model-1 word dictionary from training pairs; see the module doc."""

    def __init__(self, iterations: int = 5) -> None:
        self.iterations = iterations
        self.lexicon: dict[str, str] = {}

    @staticmethod
    def _source(text: str) -> list[str]:
        return _WORDS.findall(text.lower())

    def fit(self, sources: Sequence[str], targets: Sequence[str]) -> "WordByWord":
        pairs = [(self._source(s) + [NULL], _WORDS.findall(t)) for s, t in zip(sources, targets)]
        t = ibm1(pairs, self.iterations)
        best: dict[str, tuple[float, str]] = {}
        for (f, e), p in t.items():
            if f != NULL and _kind(f) == _kind(e) and (f not in best or (p, e) > best[f]):
                best[f] = (p, e)
        self.lexicon = {f: e for f, (_, e) in best.items()}
        return self

    def translate(self, texts: Sequence[str]) -> list[str]:
        out = []
        for text in texts:
            words = [self.lexicon.get(w.lower(), w) for w in _WORDS.findall(text)]
            line = join_words(words)
            out.append(line[:1].upper() + line[1:])
        return out

    def to_dict(self) -> dict:
        return {"iterations": self.iterations, "lexicon": self.lexicon}

    @classmethod
    def from_dict(cls, d: dict) -> "WordByWord":
        self = cls(d["iterations"])
        self.lexicon = dict(d["lexicon"])
        return self
