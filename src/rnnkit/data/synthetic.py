"""Synthetic sequence problems with known answers, for tests and benchmarks.

The adding problem (Hochreiter & Schmidhuber 1997; Le et al. 2015): each sequence has
``T`` steps of two channels — a value ``u_t ~ U(0, 1)`` and a marker that is 1 at exactly
two steps, one in each half of the sequence. The target is the sum of the two marked
values. Predicting the mean (1.0) scores MSE ≈ 1/6 ≈ 0.167; solving it needs memory that
spans up to ``T`` steps.
"""

from __future__ import annotations

import torch
from torch import Tensor


def adding_problem(n: int, length: int, *, seed: int | None = None) -> tuple[Tensor, Tensor]:
    """Return ``(x, y)``: ``x`` ``(n, length, 2)`` batch-first, ``y`` ``(n, 1)``."""
    if length < 2:
        raise ValueError(f"adding_problem: length: expected >= 2, got {length}")
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    values = torch.rand(n, length, generator=gen)  # (n, T)
    half = length // 2
    first = torch.randint(0, half, (n,), generator=gen)
    second = torch.randint(half, length, (n,), generator=gen)
    marker = torch.zeros(n, length)
    rows = torch.arange(n)
    marker[rows, first] = 1.0
    marker[rows, second] = 1.0
    x = torch.stack([values, marker], dim=-1)  # (n, T, 2)
    y = (values * marker).sum(dim=1, keepdim=True)  # (n, 1)
    return x, y
