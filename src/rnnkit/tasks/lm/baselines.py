"""The language-model baseline: a character n-gram with interpolated Kneser-Ney smoothing.

The text is read as one stream of characters with an end-of-record symbol after each
record (the same stream the recurrent model reads), over an alphabet ``A`` of the
training characters plus one unknown symbol (``V = |A|``). With ``c(.)`` the counts of the
highest order ``N`` and, for the lower orders, the *continuation* counts
``N1+(. h w)`` = the number of distinct characters seen before ``h w`` (Kneser & Ney 1995;
the interpolated form of Chen & Goodman 1998)::

    P_n(w | h) = max(c_n(h w) - D_n, 0) / c_n(h .)  +  D_n T_n(h) / c_n(h .) * P_{n-1}(w | h')
    P_0(w)     = 1 / V

where ``h`` holds the last ``n - 1`` characters, ``h'`` drops its first one,
``c_n(h .) = sum_w c_n(h w)``, ``T_n(h)`` is the number of distinct ``w`` with
``c_n(h w) > 0``, and the discount ``D_n = n_1 / (n_1 + 2 n_2)`` (``n_r``: how many
``n``-grams have count ``r``). An unseen context (``c_n(h .) = 0``) backs off to
``P_{n-1}`` whole. Every ``P_n(. | h)`` sums to 1 over the alphabet, and an unseen
character keeps a share of the uniform floor, so no probability is ever 0.

Bits per character: ``-sum_i log2 P(x_i | x_<i) / #characters``, each record's end
symbol counted as one character, as for the recurrent model.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Sequence

from rnnkit.errors import ConfigError, DataError, problem

END = "\ue000"  # end of record (a private-use code point)
UNKNOWN = "\ue001"  # any character not seen in training

NAME = "ngram{order}_kn"


def record_stream(records: Sequence[str], lowercase: bool = False) -> str:
    """``<end> r_1 <end> r_2 ... r_R <end>``: the first symbol is context only."""
    text = END + END.join(records) + END
    return text.lower() if lowercase else text


class KneserNeyCharModel:
    """Interpolated Kneser-Ney character n-gram of order ``order`` (default 5).

    >>> lm = KneserNeyCharModel(5).fit(["the cat sat", "the mat"])
    >>> lm.bits_per_char(["the hat"])
    """

    def __init__(self, order: int = 5, lowercase: bool = False) -> None:
        if isinstance(order, bool) or not isinstance(order, int) or order < 1:
            raise ConfigError(problem("KneserNeyCharModel: order", expected="an integer >= 1",
                                      got=repr(order)))
        self.order, self.lowercase = order, lowercase

    @property
    def name(self) -> str:
        return NAME.format(order=self.order)

    def fit(self, records: Sequence[str]) -> "KneserNeyCharModel":
        text = record_stream(records, self.lowercase)
        if len(text) <= len(records) + 1:
            raise DataError(problem("KneserNeyCharModel.fit: records", expected="some characters",
                                    got="only empty records"))
        N = self.order
        self.alphabet = sorted(set(text) | {UNKNOWN})
        raw = [Counter(text[i: i + n] for i in range(len(text) - n + 1)) for n in range(1, N + 1)]
        tables = []
        for n in range(1, N + 1):
            if n == N:
                counts = raw[n - 1]
            else:  # continuation counts: distinct characters seen before each n-gram
                counts = Counter(g[1:] for g in raw[n])
            tables.append(_order_table(counts))
        self.tables = tables  # tables[n - 1] = (counts, context totals, context types, D)
        return self

    def _map(self, text: str) -> str:
        known = set(self.alphabet)
        return "".join(ch if ch in known else UNKNOWN for ch in text)

    def prob(self, history: str, w: str) -> float:
        """``P(w | history)`` (only the last ``order - 1`` characters of history count)."""
        p = 1.0 / len(self.alphabet)
        h_full = history[len(history) - self.order + 1:] if self.order > 1 else ""
        for n, (counts, totals, types, D) in enumerate(self.tables, start=1):
            if n - 1 > len(h_full):
                break
            h = h_full[len(h_full) - n + 1:] if n > 1 else ""
            total = totals.get(h)
            if total:
                p = (max(counts.get(h + w, 0) - D, 0.0) + D * types[h] * p) / total
        return p

    def distribution(self, history: str) -> dict[str, float]:
        """``{w: P(w | history)}`` over the alphabet (sums to 1)."""
        history = self._map(history)
        return {w: self.prob(history, w) for w in self.alphabet}

    def total_bits(self, records: Sequence[str]) -> tuple[float, int]:
        """``(-sum log2 P, #characters predicted)`` over the records' stream."""
        text = self._map(record_stream(records, self.lowercase))
        k = self.order - 1
        bits = 0.0
        for i in range(1, len(text)):
            bits -= math.log2(self.prob(text[max(0, i - k): i], text[i]))
        return bits, len(text) - 1

    def bits_per_char(self, records: Sequence[str]) -> float:
        bits, chars = self.total_bits(records)
        return bits / chars


def _order_table(counts: Counter) -> tuple[dict, dict, dict, float]:
    totals: Counter = Counter()
    types: Counter = Counter()
    for g, c in counts.items():
        totals[g[:-1]] += c
        types[g[:-1]] += 1
    n1 = sum(1 for c in counts.values() if c == 1)
    n2 = sum(1 for c in counts.values() if c == 2)
    D = n1 / (n1 + 2 * n2) if n1 and n2 else 0.5
    return dict(counts), dict(totals), dict(types), min(max(D, 0.05), 0.95)
