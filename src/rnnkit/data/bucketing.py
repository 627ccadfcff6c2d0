"""Padding and bucketing by length: batches of sequences of similar length, with lengths.

A recurrent layer given ``lengths`` never lets padding change a real step, so padding only
costs time; putting sequences of similar length in one batch keeps that cost small.

* :func:`pad` turns a list of ``(T_i, C)`` arrays into a zero-padded ``(N, L, C)`` tensor and
  the lengths ``(N,)``, ``L = max T_i``.
* :func:`length_batches` groups indices into batches of similar length. Shuffled, it draws
  its randomness from torch's global RNG, so a resumed :class:`~rnnkit.train.Trainer` run
  replays the same batches (see its docstring).
* :class:`BucketBatches` is what a task hands the trainer: an iterable of
  ``(x, lengths, *targets)`` batches, re-bucketed every epoch.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import Tensor


def pad(series: Sequence[np.ndarray | Tensor], dtype: torch.dtype = torch.float32) -> tuple[Tensor, Tensor]:
    """``N`` arrays ``(T_i, C)`` -> ``(x (N, L, C) zero-padded, lengths (N,) int64)``."""
    lengths = torch.tensor([len(s) for s in series], dtype=torch.int64)  # (N,)
    channels = series[0].shape[1]
    x = torch.zeros(len(series), int(lengths.max()), channels, dtype=dtype)  # (N, L, C)
    for i, s in enumerate(series):
        x[i, : len(s)] = torch.as_tensor(s, dtype=dtype)
    return x, lengths


def length_batches(lengths: Sequence[int] | np.ndarray, batch_size: int, *, shuffle: bool,
                   pool: int = 50) -> list[np.ndarray]:
    """Index batches of at most ``batch_size`` sequences of similar length.

    Without ``shuffle``: indices sorted by length (ties in index order), cut into batches
    (deterministic; for inference). With ``shuffle``: a random permutation cut into pools
    of ``pool * batch_size``, each pool sorted by length (ties stay in random order) and
    cut into batches, then the batch order shuffled — randomness from torch's global RNG.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    n = len(lengths)
    if not shuffle:
        order = np.argsort(lengths, kind="stable")
        return [order[i:i + batch_size] for i in range(0, n, batch_size)]
    perm = torch.randperm(n).numpy()
    batches: list[np.ndarray] = []
    size = max(1, pool) * batch_size
    for start in range(0, n, size):
        chunk = perm[start:start + size]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[k] for k in torch.randperm(len(batches)).tolist()]


class BucketBatches:
    """Padded batches ``(x (B, L, C), lengths (B,), *targets[idx])`` grouped by length.

    >>> batches = BucketBatches(series, 32, targets=[torch.as_tensor(y)], shuffle=True)
    >>> x, lengths, y = next(iter(batches))

    Every pass (epoch) draws new batches when ``shuffle`` is True; ``len()`` is the number
    of batches per pass.
    """

    def __init__(self, series: Sequence[np.ndarray], batch_size: int, *,
                 targets: Sequence[Tensor] = (), shuffle: bool = True, pool: int = 50,
                 dtype: torch.dtype = torch.float32) -> None:
        self.series = [torch.as_tensor(s, dtype=dtype) for s in series]
        self.lengths = np.array([len(s) for s in series], dtype=np.int64)
        self.targets = list(targets)
        self.batch_size, self.shuffle, self.pool, self.dtype = batch_size, shuffle, pool, dtype

    def __len__(self) -> int:
        if not self.shuffle:
            return -(-len(self.series) // self.batch_size)
        size = max(1, self.pool) * self.batch_size
        full, rest = divmod(len(self.series), size)
        return full * -(-size // self.batch_size) + -(-rest // self.batch_size)

    def __iter__(self):
        for idx in length_batches(self.lengths, self.batch_size, shuffle=self.shuffle, pool=self.pool):
            x, lengths = pad([self.series[i] for i in idx], self.dtype)
            index = torch.as_tensor(idx)
            yield (x, lengths, *(t[index] for t in self.targets))
