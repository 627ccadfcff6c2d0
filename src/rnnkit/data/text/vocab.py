"""``Vocabulary``: tokens <-> integer ids, built from training data.

Reserved ids come first and never move: ``<pad>`` = 0 (padding, an all-zero embedding
row), ``<unk>`` = 1 (any token not in the vocabulary), ``<bos>`` = 2 and ``<eos>`` = 3
(sequence start and end, for tasks that need them). Then the training tokens seen at
least ``min_freq`` times, most frequent first (ties in alphabetical order, so a build is
deterministic), up to ``max_size`` entries in all (reserved ones included).

>>> vocab = Vocabulary.build([["the", "cat"], ["the", "dog"]], min_freq=1)
>>> vocab.encode(["the", "cow"])
[4, 1]
>>> vocab.decode([4, 1])
['the', '<unk>']
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable, Sequence

from rnnkit.errors import ConfigError, DataError, problem

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
RESERVED = (PAD, UNK, BOS, EOS)
PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3


class Vocabulary:
    """A fixed token list; ``tokens[i]`` has id ``i``. Build with :meth:`build`."""

    def __init__(self, tokens: Sequence[str], counts: dict[str, int] | None = None) -> None:
        tokens = list(tokens)
        if tuple(tokens[: len(RESERVED)]) != RESERVED:
            raise DataError(problem("Vocabulary: first tokens", expected=list(RESERVED),
                                    got=tokens[: len(RESERVED)], fix="build with Vocabulary.build"))
        if len(set(tokens)) != len(tokens):
            raise DataError("Vocabulary: duplicate tokens (build with Vocabulary.build)")
        self.tokens = tokens
        self.index = {t: i for i, t in enumerate(tokens)}
        self.counts = dict(counts or {})

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]], min_freq: int = 1,
              max_size: int | None = None) -> "Vocabulary":
        """The vocabulary of ``token_lists``: tokens seen ``>= min_freq`` times, the most
        frequent first, at most ``max_size`` ids in all (the 4 reserved ones included)."""
        if isinstance(min_freq, bool) or not isinstance(min_freq, int) or min_freq < 1:
            raise ConfigError(problem("Vocabulary: min_freq", expected="an integer >= 1", got=repr(min_freq)))
        if max_size is not None and (isinstance(max_size, bool) or not isinstance(max_size, int)
                                     or max_size <= len(RESERVED)):
            raise ConfigError(problem("Vocabulary: max_size", expected=f"None or an integer > "
                                      f"{len(RESERVED)} (the reserved tokens count)", got=repr(max_size)))
        counts = Counter(t for tokens in token_lists for t in tokens)
        for special in RESERVED:  # a literal "<unk>" in the text stays the reserved token
            counts.pop(special, None)
        kept = sorted((t for t, c in counts.items() if c >= min_freq), key=lambda t: (-counts[t], t))
        if max_size is not None:
            kept = kept[: max_size - len(RESERVED)]
        return cls(list(RESERVED) + kept, {t: counts[t] for t in kept})

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self.index

    def encode(self, tokens: Sequence[str], add_bos: bool = False, add_eos: bool = False) -> list[int]:
        """Token ids; an unknown token is ``<unk>`` (1)."""
        get = self.index.get
        ids = [get(t, UNK_ID) for t in tokens]
        return ([BOS_ID] if add_bos else []) + ids + ([EOS_ID] if add_eos else [])

    def decode(self, ids: Sequence[int], skip_special: bool = False) -> list[str]:
        """Tokens of ``ids`` (dropping ``<pad>``, ``<bos>``, ``<eos>`` with ``skip_special``)."""
        n = len(self.tokens)
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < n:
                raise DataError(problem("Vocabulary.decode: id", expected=f"0 <= id < {n}", got=i))
            if skip_special and i in (PAD_ID, BOS_ID, EOS_ID):
                continue
            out.append(self.tokens[i])
        return out

    def unknown_rate(self, token_lists: Iterable[Sequence[str]]) -> float:
        """The share of tokens that map to ``<unk>`` (0.0 for no tokens)."""
        total = unknown = 0
        for tokens in token_lists:
            total += len(tokens)
            unknown += sum(1 for t in tokens if t not in self.index)
        return unknown / total if total else 0.0

    def to_dict(self) -> dict:
        return {"tokens": self.tokens, "counts": [self.counts.get(t, 0) for t in self.tokens]}

    @classmethod
    def from_dict(cls, d: dict) -> "Vocabulary":
        tokens = d["tokens"]
        counts = {t: c for t, c in zip(tokens, d.get("counts", [])) if t not in RESERVED}
        return cls(tokens, counts)

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} tokens: {self.tokens[4:9]}...)"
