"""Truncated backpropagation through time (TBPTT), as small functions.

With ``tbptt_steps=k`` the trainer cuts every batch into chunks of ``k`` time steps and,
for each chunk, runs forward, backward and an optimizer step; the recurrent state is
carried to the next chunk but *detached*, so no gradient flows across a chunk boundary
(Williams & Peng 1990; the same trick as ``repackage_hidden`` in PyTorch's
``examples/word_language_model/main.py``).
"""

from __future__ import annotations

import math
from typing import Any

import torch

from rnnkit.errors import ShapeError, problem
from rnnkit.train.nested import iter_tensors, map_tensors


def _has_time_axis(t: torch.Tensor, time_dim: int, batch_dim: int) -> bool:
    # A tensor is cut along time only if it has both a batch and a time axis; lower-rank
    # tensors (per-sequence labels, lengths) go whole to every chunk.
    return t.ndim > max(time_dim, batch_dim)


def time_length(batch: Any, time_dim: int, batch_dim: int = 0) -> int:
    """The common length along ``time_dim`` of the batch's time-indexed tensors."""
    lengths = {t.shape[time_dim] for t in iter_tensors(batch)
               if _has_time_axis(t, time_dim, batch_dim)}
    if len(lengths) != 1:
        raise ShapeError(problem(
            f"TBPTT: lengths along time_dim={time_dim}", expected="one common length",
            got=sorted(lengths) or "no tensor with a time axis",
            fix="pad the sequences of a batch to one length, or check time_dim/batch_dim"))
    return lengths.pop()


def split_time(batch: Any, k: int, time_dim: int = 1, batch_dim: int = 0) -> list[Any]:
    """Cut ``batch`` into chunks of ``k`` steps along ``time_dim`` (the last may be shorter).

    Tensors with a time axis (``ndim > max(time_dim, batch_dim)``) are cut; every other
    tensor and non-tensor is passed whole to each chunk. Chunks are views, not copies.
    """
    length = time_length(batch, time_dim, batch_dim)
    chunks = []
    for start in range(0, length, k):
        size = min(k, length - start)
        chunks.append(map_tensors(batch, lambda t, s=start, n=size: (
            t.narrow(time_dim, s, n) if _has_time_axis(t, time_dim, batch_dim) else t)))
    return chunks


def num_chunks(batch: Any, k: int, time_dim: int = 1, batch_dim: int = 0) -> int:
    """How many chunks :func:`split_time` makes of ``batch``."""
    return math.ceil(time_length(batch, time_dim, batch_dim) / k)


def detach_state(state: Any) -> Any:
    """The state with every tensor detached from the graph (tuples, lists, dicts kept)."""
    return map_tensors(state, lambda t: t.detach())
