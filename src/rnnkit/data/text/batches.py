"""Batches of token ids: padded with ``<pad>`` = 0 and their lengths, grouped by length.

Texts of similar length go in one batch (:func:`rnnkit.data.bucketing.length_batches`),
so little time is spent on padding; the recurrent layer, given ``lengths``, never lets a
pad change a real step.

>>> ids, lengths = pad_ids([[5, 6, 7], [8]])     # ids (2, 3) int64, lengths (2,)
>>> ids
tensor([[5, 6, 7],
        [8, 0, 0]])
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import Tensor

from rnnkit.data.bucketing import length_batches
from rnnkit.data.text.vocab import PAD_ID


def pad_ids(sequences: Sequence[Sequence[int]], pad_id: int = PAD_ID) -> tuple[Tensor, Tensor]:
    """``N`` id lists -> ``(ids (N, L) int64 padded with pad_id, lengths (N,) int64)``,
    ``L = max len``."""
    lengths = torch.tensor([len(s) for s in sequences], dtype=torch.int64)  # (N,)
    ids = torch.full((len(sequences), int(lengths.max())), pad_id, dtype=torch.int64)  # (N, L)
    for i, s in enumerate(sequences):
        ids[i, : len(s)] = torch.as_tensor(s, dtype=torch.int64)
    return ids, lengths


class TokenBatches:
    """Padded batches ``(ids (B, L), lengths (B,), *targets[idx])`` grouped by length.

    >>> batches = TokenBatches(id_lists, 32, targets=[torch.as_tensor(y)], shuffle=True)
    >>> ids, lengths, y = next(iter(batches))

    With ``shuffle`` every pass draws new batches (from torch's global RNG, so a resumed
    :class:`~rnnkit.train.Trainer` run replays them); ``len()`` is the batches per pass.
    """

    def __init__(self, sequences: Sequence[Sequence[int]], batch_size: int, *,
                 targets: Sequence[Tensor] = (), shuffle: bool = True, pool: int = 50) -> None:
        self.sequences = [list(s) for s in sequences]
        self.lengths = np.array([len(s) for s in sequences], dtype=np.int64)
        self.targets = list(targets)
        self.batch_size, self.shuffle, self.pool = batch_size, shuffle, pool

    def __len__(self) -> int:
        if not self.shuffle:
            return -(-len(self.sequences) // self.batch_size)
        size = max(1, self.pool) * self.batch_size
        full, rest = divmod(len(self.sequences), size)
        return full * -(-size // self.batch_size) + -(-rest // self.batch_size)

    def __iter__(self):
        for idx in length_batches(self.lengths, self.batch_size, shuffle=self.shuffle, pool=self.pool):
            ids, lengths = pad_ids([self.sequences[i] for i in idx])
            index = torch.as_tensor(idx)
            yield (ids, lengths, *(t[index] for t in self.targets))
