"""Dispatch to torch's fused recurrent kernels (oneDNN on CPU, cuDNN on GPU).

Taken by ``impl="auto"`` when no extra is on. Calls the same ``torch._VF`` entry points as
``torch.nn.RNN / LSTM / GRU`` with the layer's parameters in torch's flat order, so results
are torch's own. Padded input with ``lengths`` is packed first, so the final state is
taken at each sequence's own last step.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from rnnkit.nn.sequences import SequenceBatch, finish


def _kernel(layer):
    if layer.mode == "LSTM":
        return torch._VF.lstm
    if layer.mode == "GRU":
        return torch._VF.gru
    return torch._VF.rnn_tanh if layer.nonlinearity == "tanh" else torch._VF.rnn_relu


def _permute(hx: tuple[Tensor, ...], index: Tensor | None) -> tuple[Tensor, ...]:
    if index is None:
        return hx
    return tuple(h.index_select(1, index.to(h.device)) for h in hx)


def _state_arg(layer, hx: tuple[Tensor, ...]):
    return hx if layer.mode == "LSTM" else hx[0]


def _run_packed(layer, packed: PackedSequence, hx: tuple[Tensor, ...]):
    hx = _permute(hx, packed.sorted_indices)  # kernel wants hx in sorted batch order
    res = _kernel(layer)(packed.data, packed.batch_sizes, _state_arg(layer, hx),
                         layer.flat_weights(), layer.bias, layer.num_layers, layer.dropout,
                         layer.training, layer.bidirectional)
    out = PackedSequence(res[0], packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices)
    return out, _permute(tuple(res[1:]), packed.unsorted_indices)


def run(layer, input, batch: SequenceBatch, hx: tuple[Tensor, ...]):
    """Returns ``(output in the caller's format, (h_n,) or (h_n, c_n))``."""
    if batch.packed is not None:
        return _run_packed(layer, input, hx)
    if batch.lengths is not None:
        packed = pack_padded_sequence(batch.x, batch.lengths, enforce_sorted=False)
        out, final = _run_packed(layer, packed, hx)
        padded, _ = pad_packed_sequence(out, total_length=batch.x.shape[0])  # (L, N, D*P)
        return finish(padded, batch), final
    x = batch.x if not batch.batch_first else batch.x.transpose(0, 1)
    res = _kernel(layer)(x, _state_arg(layer, hx), layer.flat_weights(), layer.bias,
                         layer.num_layers, layer.dropout, layer.training, layer.bidirectional,
                         batch.batch_first)
    out = res[0].squeeze(1) if batch.unbatched else res[0]
    return out, tuple(res[1:])
