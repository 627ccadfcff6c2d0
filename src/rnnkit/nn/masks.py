"""Random masks of the regularisers, drawn once per forward call.

Every code path of a layer (reference loop, fast path, streaming step) calls
:func:`draw_masks` first, so with the same seed they all see the same masks — that is what
lets the tests compare paths in training mode.

Order of draws: for each layer ``k``, for each direction: the recurrent-dropout mask,
the zoneout mask of ``h``, the zoneout mask of ``c``; then the dropout mask between layer
``k`` and ``k + 1``.

* Recurrent dropout (variational, Gal & Ghahramani 2016): one Bernoulli(1 - p) mask per
  sequence, layer and direction, shape ``(N, P)``, scaled by ``1 / (1 - p)``; at
  inference no mask.
* Zoneout (Krueger et al. 2016): a fresh Bernoulli(p) "keep the previous value" mask per
  step, shape ``(L, N, P)`` for ``h`` and ``(L, N, H)`` for ``c``; at inference the
  expectation, the constant ``p``.
* Dropout between layers (torch's ``dropout`` argument): Bernoulli(1 - p) scaled by
  ``1 / (1 - p)`` on every element of the layer's output ``(L, N, D*P)``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from rnnkit.nn.functional import StepMasks


class SequenceMasks(NamedTuple):
    """Masks of one layer and direction for a whole sequence."""

    rec: Tensor | None = None  # (N, P)
    zone_h: Tensor | float | None = None  # (L, N, P) or p
    zone_c: Tensor | float | None = None  # (L, N, H) or p

    def at(self, t: int) -> StepMasks:
        """The masks of step ``t``."""
        return StepMasks(self.rec, _slice(self.zone_h, t), _slice(self.zone_c, t))


def _slice(mask: Tensor | float | None, t: int) -> Tensor | float | None:
    return mask[t] if isinstance(mask, Tensor) else mask


def _bernoulli(shape, p: float, device, dtype) -> Tensor:
    """0/1 with P(1) = ``p``, as ``U[0, 1) < p``: the same law as ``Tensor.bernoulli_(p)``,
    drawn about twice as fast on CPU (measured: 17 against 31 ms for (100, 64, 256))."""
    return (torch.rand(shape, device=device) < p).to(dtype)


def _scaled_bernoulli(shape, keep: float, device, dtype) -> Tensor:
    if keep == 0.0:  # p = 1 drops everything, as torch.nn.functional.dropout does
        return torch.zeros(shape, device=device, dtype=dtype)
    return _bernoulli(shape, keep, device, dtype) / keep


def _zoneout(shape, p: float, training: bool, device, dtype) -> Tensor | float | None:
    if p == 0.0:
        return None
    if not training:
        return p
    return _bernoulli(shape, p, device, dtype)


def draw_masks(layer, length: int, batch: int, device, dtype
               ) -> tuple[list[list[SequenceMasks]], list[Tensor | None]]:
    """Masks for a forward call of ``layer`` on ``(length, batch)``.

    Returns ``(per_layer, between)``: ``per_layer[k][d]`` is a :class:`SequenceMasks`;
    ``between[k]`` the dropout mask applied to layer ``k``'s output, or None.
    """
    training = layer.training
    P, H = layer.real_hidden_size, layer.hidden_size
    per_layer, between = [], []
    for k in range(layer.num_layers):
        directions = []
        for _ in range(layer.num_directions):
            rec = None
            if training and layer.recurrent_dropout > 0:
                rec = _scaled_bernoulli((batch, P), 1 - layer.recurrent_dropout, device, dtype)
            zone_h = _zoneout((length, batch, P), layer.zoneout, training, device, dtype)
            zone_c = None
            if layer.mode == "LSTM":
                zone_c = _zoneout((length, batch, H), layer.zoneout, training, device, dtype)
            directions.append(SequenceMasks(rec, zone_h, zone_c))
        per_layer.append(directions)
        drop = None
        if training and layer.dropout > 0 and k < layer.num_layers - 1:
            shape = (length, batch, layer.num_directions * P)
            drop = _scaled_bernoulli(shape, 1 - layer.dropout, device, dtype)
        between.append(drop)
    return per_layer, between
