"""The math of one recurrent step, shared by every code path of the layers.

Each step is split in two so that a fast path can hoist the first half out of the
time loop:

1. :func:`input_gates` — the input projection ``x_t W_ih^T (+ b_ih)``, optionally layer
   normalised. It depends on the input only, so the fast path computes it for all L time
   steps in one matrix product; the reference loop calls it once per step.
2. :func:`rnn_recur`, :func:`lstm_recur`, :func:`gru_recur` — everything that depends on
   the previous state: the recurrent projection (:func:`recurrent_gates`) and the
   pointwise gate math (:func:`gate_activations` gives a step's gates on their own, for
   inspection; the step functions use the same gate functions).

Symbols (math names inside the kernels, as in the cell docstrings):
``N`` batch, ``H`` hidden size, ``P`` projection size (``P = H`` without projection),
``G`` gates (RNN 1, GRU 3, LSTM 4), ``gi`` input gates ``(N, G*H)``, ``gh`` recurrent
gates ``(N, G*H)``.

Regularisers enter through :class:`StepMasks` (see :mod:`rnnkit.nn.masks`):

* recurrent dropout (Gal & Ghahramani 2016): ``h_prev * m`` feeds ``W_hh`` only, with one
  mask ``m`` per sequence; the carried state itself is not dropped;
* zoneout (Krueger et al. 2016): ``h_t = d * h_{t-1} + (1 - d) * h~_t`` with ``d`` a
  0/1 mask per step in training and the constant ``p`` at inference (likewise for ``c``).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

LN_EPS = 1e-5


class CellWeights(NamedTuple):
    """The parameters of one layer and direction; unused ones are None."""

    w_ih: Tensor  # (G*H, H_in)
    w_hh: Tensor  # (G*H, P)
    b_ih: Tensor | None = None  # (G*H,)
    b_hh: Tensor | None = None  # (G*H,)
    w_hr: Tensor | None = None  # (P, H), LSTM projection
    ln_ih: Tensor | None = None  # (G*H,), gain of LN on the input gates
    ln_hh: Tensor | None = None  # (G*H,), gain of LN on the recurrent gates
    ln_c_w: Tensor | None = None  # (H,), gain of LN on the LSTM cell state
    ln_c_b: Tensor | None = None  # (H,), shift of LN on the LSTM cell state


class StepMasks(NamedTuple):
    """Regulariser masks for one step; None means the regulariser is off.

    ``rec``: recurrent-dropout mask ``(N, P)``, already scaled by ``1/(1-p)``.
    ``zone_h``/``zone_c``: zoneout keep-previous weight, a 0/1 tensor ``(N, P)`` / ``(N, H)``
    in training or the float ``p`` at inference.
    """

    rec: Tensor | None = None
    zone_h: Tensor | float | None = None
    zone_c: Tensor | float | None = None


NO_MASKS = StepMasks()


def _layer_norm(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    return F.layer_norm(x, (x.shape[-1],), weight, bias, LN_EPS)


def input_gates(x: Tensor, w: CellWeights) -> Tensor:
    """``LN_ih(x W_ih^T) + b_ih`` for any leading shape: ``(..., H_in) -> (..., G*H)``."""
    gi = x @ w.w_ih.T  # (..., G*H)
    if w.ln_ih is not None:
        gi = _layer_norm(gi, w.ln_ih)
    if w.b_ih is not None:
        gi = gi + w.b_ih
    return gi


def recurrent_gates(h_prev: Tensor, w: CellWeights, m: StepMasks = NO_MASKS) -> Tensor:
    """The recurrent half of a cell's gate pre-activations: ``(N, P) -> (N, G*H)``.

    ``gh = LN_hh((h_prev * m_rec) W_hh^T) + b_hh``, with ``m_rec`` the recurrent-dropout
    mask of ``m`` (none at inference) and ``LN_hh`` the layer norm of ``layer_norm=True``
    (gain ``ln_hh``, no shift). A cell's pre-activations are ``gi + gh`` with ``gi`` from
    :func:`input_gates`, split into ``G`` blocks of ``H`` in the gate order (LSTM i, f, g,
    o; GRU r, z, n, where the candidate uses ``i_n + r * h_n`` instead of the sum).
    """
    h_in = h_prev * m.rec if m.rec is not None else h_prev
    gh = h_in @ w.w_hh.T  # (N, G*H)
    if w.ln_hh is not None:
        gh = _layer_norm(gh, w.ln_hh)
    if w.b_hh is not None:
        gh = gh + w.b_hh
    return gh


def _lstm_gates(gi: Tensor, gh: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """``i = σ(a_i), f = σ(a_f), g = tanh(a_g), o = σ(a_o)`` with ``a = gi + gh``; 4 x (N, H)."""
    a_i, a_f, a_g, a_o = (gi + gh).chunk(4, dim=-1)  # 4 x (N, H)
    return torch.sigmoid(a_i), torch.sigmoid(a_f), torch.tanh(a_g), torch.sigmoid(a_o)


def _gru_gates(gi: Tensor, gh: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """``r = σ(i_r + h_r), z = σ(i_z + h_z), n = tanh(i_n + r * h_n)``; 3 x (N, H)."""
    i_r, i_z, i_n = gi.chunk(3, dim=-1)
    h_r, h_z, h_n = gh.chunk(3, dim=-1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    return r, z, torch.tanh(i_n + r * h_n)


def gate_activations(mode: str, gi: Tensor, h_prev: Tensor, w: CellWeights,
                     m: StepMasks = NO_MASKS) -> tuple[Tensor, ...]:
    """The gate activations of one step of a cell, each ``(N, H)``, in the gate order.

    ``gi`` ``(N, G*H)`` is the step's :func:`input_gates`, ``h_prev`` ``(N, P)`` the
    previous hidden state, ``w`` the cell's weights and ``m`` its masks for this step.
    ``mode`` ``"LSTM"`` -> ``(i, f, g, o)`` (sigmoid, sigmoid, tanh, sigmoid of
    ``gi + gh``); ``"GRU"`` -> ``(r, z, n)`` (see :func:`gru_recur`); ``"RNN"`` -> ``()``
    (an Elman cell has no gates). ``gh`` is :func:`recurrent_gates`; the step functions
    compute their gates with the same functions, so these are the gates the layer used.
    """
    if mode == "RNN":
        return ()
    gh = recurrent_gates(h_prev, w, m)  # (N, G*H)
    return _lstm_gates(gi, gh) if mode == "LSTM" else _gru_gates(gi, gh)


def _zoneout(new: Tensor, prev: Tensor, keep: Tensor | float | None) -> Tensor:
    """``keep * prev + (1 - keep) * new``; identity when zoneout is off."""
    if keep is None:
        return new
    return new + keep * (prev - new)


def rnn_recur(gi: Tensor, h_prev: Tensor, w: CellWeights, m: StepMasks,
              nonlinearity: str = "tanh") -> tuple[Tensor, Tensor]:
    """Elman step ``h_t = act(gi + gh)``; returns ``(y_t, h_t)``, both ``(N, H)``."""
    pre = gi + recurrent_gates(h_prev, w, m)  # (N, H)
    h = torch.tanh(pre) if nonlinearity == "tanh" else torch.relu(pre)
    h = _zoneout(h, h_prev, m.zone_h)
    return h, h


def lstm_recur(gi: Tensor, state: tuple[Tensor, Tensor], w: CellWeights, m: StepMasks
               ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """LSTM step on ``state = (h_prev (N, P), c_prev (N, H))``; gate order i, f, g, o."""
    h_prev, c_prev = state
    i, f, g, o = _lstm_gates(gi, recurrent_gates(h_prev, w, m))  # 4 x (N, H)
    c = f * c_prev + i * g  # (N, H)
    c_out = _layer_norm(c, w.ln_c_w, w.ln_c_b) if w.ln_c_w is not None else c
    h = o * torch.tanh(c_out)  # (N, H)
    if w.w_hr is not None:
        h = h @ w.w_hr.T  # (N, P)
    c = _zoneout(c, c_prev, m.zone_c)
    h = _zoneout(h, h_prev, m.zone_h)
    return h, (h, c)


def gru_recur(gi: Tensor, h_prev: Tensor, w: CellWeights, m: StepMasks
              ) -> tuple[Tensor, Tensor]:
    """GRU step; gate order r, z, n; ``h_t = (1 - z) * n + z * h_prev``."""
    _, z, n = _gru_gates(gi, recurrent_gates(h_prev, w, m))  # 3 x (N, H)
    h = n + z * (h_prev - n)  # == (1 - z) * n + z * h_prev
    h = _zoneout(h, h_prev, m.zone_h)
    return h, h
