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

:meth:`WordByWord.decompose` serves the network's ``<unk>`` replacement, not the baseline.
A German word the dictionary lacks is looked up again

1. without an inflection ending (``es``, ``en``, ``er``, ``em``, ``e``, ``s``, ``n``; the stem
   keeps at least 4 letters): ``qualifiziertes`` -> ``qualifiziert`` -> ``qualified``;
2. as a compound of two dictionary words, ``w = a + link + b`` with ``link`` one of German's
   linking elements (``""``, ``s``, ``es``, ``n``, ``en``, ``e``) and both parts at least 4
   letters, which becomes ``t(a) + " " + t(b)``; of several splits the one whose parts are
   the most frequent in the training sources (geometric mean) wins (Koehn and Knight 2003,
   "Empirical methods for compound splitting"): ``Erfolgsgeschichte`` -> ``Erfolg`` + ``s`` +
   ``Geschichte`` -> ``success story``;
3. as such a compound once an inflection ending is stripped (``Krankenhauszimmern``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Sequence

from rnnkit.data.text.tokenizers import WORD_PATTERN, join_words
from rnnkit.tasks.seq2seq.lexicon import ibm1

NAME = "word-by-word"
NULL = "\0NULL"
LINKS = ("", "s", "es", "n", "en", "e")  # German linking elements (Fugenelemente)
MIN_PART = 4  # letters of each part of a split compound, and of a stem
ENDINGS = ("es", "en", "er", "em", "e", "s", "n")  # German inflection endings, tried in this order
_WORDS = re.compile(WORD_PATTERN)


def is_word(token: str) -> bool:
    """True for a word (letters, digits), False for a punctuation mark or symbol."""
    return bool(re.match(r"\w", token))


class WordByWord:
    """IBM-Model-1 word dictionary from training pairs; see the module doc."""

    def __init__(self, iterations: int = 5) -> None:
        self.iterations = iterations
        self.lexicon: dict[str, str] = {}
        self.counts: dict[str, int] = {}  # source words of the training pairs (lowercase)

    @staticmethod
    def _source(text: str) -> list[str]:
        return _WORDS.findall(text.lower())

    def fit(self, sources: Sequence[str], targets: Sequence[str]) -> "WordByWord":
        pairs = [(self._source(s) + [NULL], _WORDS.findall(t)) for s, t in zip(sources, targets)]
        t = ibm1(pairs, self.iterations)
        best: dict[str, tuple[float, str]] = {}
        for (f, e), p in t.items():
            if f != NULL and is_word(f) == is_word(e) and (f not in best or (p, e) > best[f]):
                best[f] = (p, e)
        self.lexicon = {f: e for f, (_, e) in best.items()}
        self.counts = dict(Counter(f for f_words, _ in pairs for f in f_words if f != NULL))
        return self

    def decompose(self, word: str) -> str | None:
        """The translation of a word the dictionary lacks, from its stem or its parts (module
        doc, steps 1-3), or None."""
        w = word.lower()
        endings = [e for e in ENDINGS if w.endswith(e) and len(w) - len(e) >= MIN_PART]
        for e in endings:
            if w[: -len(e)] in self.lexicon:
                return self.lexicon[w[: -len(e)]]
        return self.compound(w) or next(filter(None, (self.compound(w[: -len(e)]) for e in endings)), None)

    def compound(self, word: str) -> str | None:
        """The translation of ``word`` read as a compound of two dictionary words (see the
        module doc), or None when no split works. A dictionary saved before the word counts
        were stored (empty ``counts``) splits nothing."""
        w, best = word.lower(), None
        for i in range(MIN_PART, len(w) - MIN_PART + 1):
            head = w[:i]
            if head not in self.lexicon or not self.counts.get(head):
                continue
            for link in LINKS:
                tail = w[i + len(link):]
                if (w.startswith(link, i) and len(tail) >= MIN_PART and tail in self.lexicon
                        and self.counts.get(tail)):
                    score = math.sqrt(self.counts[head] * self.counts[tail])
                    if best is None or score > best[0]:
                        best = (score, f"{self.lexicon[head]} {self.lexicon[tail].lower()}")
        return best[1] if best else None

    def translate(self, texts: Sequence[str]) -> list[str]:
        out = []
        for text in texts:
            words = [self.lexicon.get(w.lower(), w) for w in _WORDS.findall(text)]
            line = join_words(words)
            out.append(line[:1].upper() + line[1:])
        return out

    def to_dict(self) -> dict:
        return {"iterations": self.iterations, "lexicon": self.lexicon, "counts": self.counts}

    @classmethod
    def from_dict(cls, d: dict) -> "WordByWord":
        self = cls(d["iterations"])
        self.lexicon = dict(d["lexicon"])
        self.counts = dict(d.get("counts", {}))
        return self
