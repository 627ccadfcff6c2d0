"""The language model's network inputs: records -> one long id stream -> ``N`` parallel
streams for truncated BPTT.

The corpus is the records joined with ``<eos>`` after each one, so the model learns where
a record ends and, after an ``<eos>``, how one begins::

    stream = r_1 <eos> r_2 <eos> ... r_R <eos>              # (T,) ids

:func:`batchify` cuts the stream into ``N`` contiguous pieces of ``L = (T - 1) // N``
steps, one per row, inputs and their next-token targets (the ``T - 1 - N L`` last ids are
dropped)::

    x[n, t] = stream[n L + t],   y[n, t] = stream[n L + t + 1]     # (N, L) each

and :func:`chunks` cuts the columns into consecutive ``(x, y)`` pieces of ``k`` steps, in
order: row ``n`` of chunk ``j + 1`` continues row ``n`` of chunk ``j``, which is what lets
the trainer carry the recurrent state from one chunk to the next (as in PyTorch's
``examples/word_language_model``). For evaluation :func:`eval_streams` keeps every target:
the rows are padded with ``IGNORE`` targets instead of dropping the tail.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from rnnkit.data.text.vocab import EOS_ID
from rnnkit.errors import DataError, problem

IGNORE = -100  # target id that the loss skips (cross_entropy's ignore_index)


def join_records(id_lists: Sequence[Sequence[int]], start: bool = False) -> Tensor:
    """``r_1 <eos> r_2 <eos> ...`` as one int64 tensor ``(T,)`` (``<eos>`` first too with
    ``start``, so the first record is read from the start-of-record context)."""
    total = sum(len(r) + 1 for r in id_lists) + int(start)
    out = torch.empty(total, dtype=torch.int64)
    pos = 0
    if start:
        out[0], pos = EOS_ID, 1
    for r in id_lists:
        out[pos: pos + len(r)] = torch.as_tensor(r, dtype=torch.int64)
        out[pos + len(r)] = EOS_ID
        pos += len(r) + 1
    return out


def batchify(stream: Tensor, n_streams: int, where: str = "batchify") -> tuple[Tensor, Tensor]:
    """``(x, y)``, each ``(N, L)``: ``N`` contiguous pieces of the stream and their next ids."""
    L = (len(stream) - 1) // n_streams
    if L < 1:
        raise DataError(problem(f"{where}: corpus length", expected=f"more than batch_size="
                                f"{n_streams} tokens", got=f"{len(stream)} tokens",
                                fix="give more text or lower batch_size"))
    x = stream[: n_streams * L].view(n_streams, L)  # (N, L)
    y = stream[1: n_streams * L + 1].view(n_streams, L)  # (N, L)
    return x, y


def chunks(x: Tensor, y: Tensor, k: int) -> list[tuple[Tensor, Tensor]]:
    """Consecutive ``(x, y)`` chunks of ``k`` columns (the last may be shorter)."""
    return [(x[:, s: s + k], y[:, s: s + k]) for s in range(0, x.shape[1], k)]


def eval_streams(stream: Tensor, n_streams: int) -> tuple[Tensor, Tensor]:
    """Like :func:`batchify` but keeping all ``T - 1`` targets: ``N' = min(N, T - 1)`` rows
    of ``ceil((T - 1) / N')`` steps, the tail padded (inputs ``<eos>``, targets ``IGNORE``)."""
    T = len(stream) - 1
    n = max(1, min(n_streams, T))
    L = -(-T // n)
    x = torch.full((n * L,), EOS_ID, dtype=torch.int64)
    y = torch.full((n * L,), IGNORE, dtype=torch.int64)
    x[:T], y[:T] = stream[:-1], stream[1:]
    return x.view(n, L), y.view(n, L)  # (N', L) each
