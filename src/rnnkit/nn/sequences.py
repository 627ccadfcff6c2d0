"""Input formats of the recurrent layers, brought to one time-major form and back.

A layer accepts, like ``torch.nn.LSTM``:

* a padded tensor ``(L, N, H_in)`` (``(N, L, H_in)`` with ``batch_first``), optionally with
  ``lengths`` ``(N,)`` — rnnkit's extra: each sequence's real length, the rest is padding;
* a :class:`~torch.nn.utils.rnn.PackedSequence`;
* an unbatched tensor ``(L, H_in)``.

Inside, every path works on :class:`SequenceBatch`: time-major ``x`` of shape
``(L, N, H_in)`` in the caller's batch order plus ``lengths`` (None when every sequence
is full length).
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import torch
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnkit.errors import ShapeError, problem


class SequenceBatch(NamedTuple):
    x: Tensor  # (L, N, H_in)
    lengths: Tensor | None  # (N,) int64 on CPU, or None when all are L
    packed: PackedSequence | None  # the caller's packed input, to pack the output alike
    batch_first: bool
    unbatched: bool


def prepare(input: Tensor | PackedSequence, lengths, batch_first: bool, name: str
            ) -> SequenceBatch:
    """Bring any accepted input format to a :class:`SequenceBatch`."""
    if isinstance(input, PackedSequence):
        if lengths is not None:
            raise ShapeError(f"{name}: got both a PackedSequence and lengths= (a packed "
                             "sequence carries its own lengths; drop the lengths argument)")
        x, lens = pad_packed_sequence(input)  # (L, N, H_in), original batch order
        return SequenceBatch(x, _none_if_full(lens, x.shape[0]), input, False, False)
    if not isinstance(input, Tensor):
        raise ShapeError(problem(f"{name}: input", expected="a Tensor or PackedSequence",
                                 got=type(input).__name__))
    if input.dim() not in (2, 3):
        raise ShapeError(problem(f"{name}: input rank", expected="3 dims (L, N, H_in) or "
                                 "(N, L, H_in) with batch_first, or 2 dims (L, H_in) unbatched",
                                 got=f"{input.dim()} dims of shape {tuple(input.shape)}"))
    unbatched = input.dim() == 2
    x = input.unsqueeze(1) if unbatched else (input.transpose(0, 1) if batch_first else input)
    lens = None if lengths is None else check_lengths(lengths, x.shape[0], x.shape[1], name)
    return SequenceBatch(x, lens, None, batch_first and not unbatched, unbatched)


def check_lengths(lengths, max_len: int, batch: int, name: str) -> Tensor | None:
    """Validate ``lengths`` and return it as a CPU int64 tensor (None if all full)."""
    lens = torch.as_tensor(lengths).detach().to("cpu")
    if lens.is_floating_point() or lens.dtype == torch.bool:
        raise ShapeError(problem(f"{name}: lengths dtype", expected="integers",
                                 got=str(lens.dtype), fix="pass lengths as int64"))
    lens = lens.to(torch.int64).reshape(-1)
    if lens.numel() != batch:
        raise ShapeError(problem(f"{name}: lengths", expected=f"one length per sequence ({batch})",
                                 got=f"{lens.numel()} lengths"))
    if batch and (lens.min() < 1 or lens.max() > max_len):
        bad = lens[(lens < 1) | (lens > max_len)].tolist()[:5]
        raise ShapeError(problem(f"{name}: lengths", expected=f"values in [1, {max_len}] "
                                 "(the padded sequence length)", got=bad,
                                 fix="drop empty sequences and check the padding axis"))
    return _none_if_full(lens, max_len)


def _none_if_full(lens: Tensor, max_len: int) -> Tensor | None:
    return None if bool((lens == max_len).all()) else lens


def finish(out: Tensor, batch: SequenceBatch) -> Tensor | PackedSequence:
    """Return ``out`` ``(L, N, F)`` in the caller's input format."""
    if batch.packed is not None:
        return repack(out, batch.packed)
    if batch.unbatched:
        return out.squeeze(1)
    return out.transpose(0, 1) if batch.batch_first else out


def repack(out: Tensor, like: PackedSequence) -> PackedSequence:
    """Pack padded ``out`` (original batch order) with the exact layout of ``like``."""
    sorted_idx = like.sorted_indices
    out_sorted = out if sorted_idx is None else out.index_select(1, sorted_idx.to(out.device))
    lens = _lengths_from_batch_sizes(like.batch_sizes)
    data = pack_padded_sequence(out_sorted, lens, enforce_sorted=True).data
    return PackedSequence(data, like.batch_sizes, like.sorted_indices, like.unsorted_indices)


def _lengths_from_batch_sizes(batch_sizes: Tensor) -> Tensor:
    n = int(batch_sizes[0])
    steps = torch.arange(n).unsqueeze(0) < batch_sizes.unsqueeze(1)  # (L, N) sorted order
    return steps.sum(0)


def reverse_padded(x: Tensor, lengths: Tensor | None) -> Tensor:
    """Reverse each sequence of ``x`` ``(L, N, F)`` within its own length.

    Padding stays where it is, so the reverse direction starts at each sequence's last
    real step. Applying it twice is the identity.
    """
    if lengths is None:
        return x.flip(0)
    L, N = x.shape[0], x.shape[1]
    t = torch.arange(L).unsqueeze(1)  # (L, 1)
    lens = lengths.unsqueeze(0)  # (1, N)
    index = torch.where(t < lens, lens - 1 - t, t)  # (L, N)
    index = index.to(x.device).unsqueeze(-1).expand(L, N, x.shape[2])
    return x.gather(0, index)


def valid_steps(lengths: Tensor | None, max_len: int, device) -> Tensor | None:
    """``(L, N, 1)`` bool: True where step t is a real step; None when no padding."""
    if lengths is None:
        return None
    t = torch.arange(max_len).unsqueeze(1)  # (L, 1)
    return (t < lengths.unsqueeze(0)).unsqueeze(-1).to(device)


def tree_where(valid: Tensor, new, old):
    """``torch.where(valid, new, old)`` over a tensor or tuple of tensors."""
    if isinstance(new, Tensor):
        return torch.where(valid, new, old)
    return tuple(torch.where(valid, n, o) for n, o in zip(new, old))


def as_lengths_list(lengths: Sequence[int] | Tensor) -> list[int]:
    return torch.as_tensor(lengths).tolist()
