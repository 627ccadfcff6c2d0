"""Recall@k of n candidates (Lowe et al. 2015): the true reply of a context among ``n - 1``
replies drawn at random from the other pairs of the same set.

For ``M`` contexts, :func:`draw_candidates` gives indices ``(M, n)`` into the set's
replies: column 0 is the pair's own reply, the others are distinct replies whose text
(case- and space-normalised, :func:`normalize`) differs from it and from each other. A
method scores every candidate; with ``s_0`` the true reply's score, its rank is the
number of candidates scored higher plus a uniformly random place among those scored
exactly the same (ties broken at random with the seed, so a method that scores many
candidates alike, as TF-IDF does with no word in common, is neither helped nor hurt)::

    recall@k = (1/M) sum_m [rank_m < k]

A random order gives ``k / n``.
"""

from __future__ import annotations

import re

import numpy as np

from rnnkit.errors import DataError, problem

_SPACES = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Lowercased, spaces collapsed and stripped: the key under which replies are the same."""
    return _SPACES.sub(" ", text.lower()).strip()


def reply_keys(replies: list[str]) -> np.ndarray:
    """An integer per reply, equal for replies that :func:`normalize` makes equal ``(N,)``."""
    index: dict[str, int] = {}
    return np.array([index.setdefault(normalize(r), len(index)) for r in replies], dtype=np.int64)


def draw_candidates(keys: np.ndarray, n: int, seed: int, where: str = "ChatModel.evaluate") -> np.ndarray:
    """Candidate indices ``(M, n)`` (module doc), drawn with ``seed``.

    Raises:
        DataError: the set has fewer than ``n`` distinct replies.
    """
    M = len(keys)
    if M == 0:
        return np.zeros((0, n), dtype=np.int64)
    if len(np.unique(keys)) < n:
        raise DataError(problem(f"{where}: replies", expected=f"at least {n} distinct replies "
                                f"(the true one among {n} candidates)", got=len(np.unique(keys)),
                                fix="evaluate on more pairs, or lower candidates"))
    rng = np.random.default_rng(seed)
    cand = rng.integers(0, M, size=(M, n - 1))
    earlier = np.tril(np.ones((n - 1, n - 1), dtype=bool), k=-1)  # (n-1, n-1): b < a
    for _ in range(1000):
        k = keys[cand]  # (M, n-1)
        bad = (k == keys[:, None]) | ((k[:, :, None] == k[:, None, :]) & earlier).any(2)
        if not bad.any():
            break
        cand[bad] = rng.integers(0, M, size=int(bad.sum()))
    return np.concatenate([np.arange(M)[:, None], cand], axis=1)


def ranks(scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The 0-based rank ``(M,)`` of column 0 among each row of ``scores`` ``(M, n)``, ties
    broken uniformly at random."""
    higher = (scores[:, 1:] > scores[:, :1]).sum(1)  # (M,)
    ties = (scores[:, 1:] == scores[:, :1]).sum(1)  # (M,)
    return higher + rng.integers(0, ties + 1)


def recall_at(scores: np.ndarray, ks, rng: np.random.Generator) -> dict[int, float]:
    """``{k: recall@k}`` of scores ``(M, n)`` whose column 0 is the true reply."""
    r = ranks(scores, rng)
    return {int(k): float(np.mean(r < k)) if len(r) else float("nan") for k in ks}
