"""Maximal runs of ``True`` in a boolean array: the unit of anomaly sequences, labelled
anomalies and reported ranges."""

from __future__ import annotations

import numpy as np


def runs(mask) -> np.ndarray:
    """``(K, 2)`` int array of ``[start, end]`` (both inclusive) of each run of ``True``.

    >>> runs(np.array([0, 1, 1, 0, 1], dtype=bool)).tolist()
    [[1, 2], [4, 4]]
    """
    m = np.asarray(mask, dtype=bool).ravel()
    if m.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    edges = np.diff(np.concatenate(([False], m, [False])).astype(np.int8))  # (n + 1,)
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    return np.stack([starts, ends], axis=1).astype(np.int64)
