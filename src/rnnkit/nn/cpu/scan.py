"""The autograd Function of one LSTM/GRU scan on the CPU, and the layer loop around it.

Same split as :mod:`rnnkit.nn.fast` and :mod:`rnnkit.nn.gpu.scan`: the input gates of all
steps are one matrix product (:func:`rnnkit.nn.gpu.scan.input_gates`'s math: ``b_ih``
folded into the layer norm's shift; autograd handles their backward); the recurrence is
:class:`CpuScan`, whose forward and hand-written BPTT run in C++ (``kernels.cpp``): one
matrix product per step, one pass of pointwise gate math per step and row, and the
weight gradient as one matrix product over all steps at the end.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnkit.nn.cpu import _build
from rnnkit.nn.functional import LN_EPS, CellWeights
from rnnkit.nn.masks import SequenceMasks
from rnnkit.nn.sequences import SequenceBatch
from rnnkit.nn.stepping import stack_layers


def _zone(keep) -> tuple[int, float]:
    """Zoneout as the kernels take it: (0 off | 1 mask per step | 2 constant p, p)."""
    if keep is None:
        return 0, 0.0
    return (1, 0.0) if isinstance(keep, Tensor) else (2, float(keep))


class CpuScan(torch.autograd.Function):
    """``(gi, h0, c0, w_hh, b_hh, ln_hh, lnc_w, lnc_b, m_rec, zh, zc) -> (out, h_n[, c_n])``.

    Shapes: gi ``(L, N, G*H)``; h0, c0 ``(N, H)``; w_hh ``(G*H, H)``; b_hh, ln_hh ``(G*H,)``;
    lnc_w, lnc_b ``(H,)``; m_rec ``(N, H)``; zh, zc ``(L, N, H)`` 0/1 masks or None (then
    ``zone`` says whether the constant ``p`` applies). GRU: c0, lnc_w, lnc_b, zc are None.
    """

    @staticmethod
    def forward(ctx, mode, zone, gi, h0, c0, w_hh, b_hh, ln_hh, lnc_w, lnc_b, m_rec, zh, zc):
        ext = _build.load()
        flag, p = zone
        save = any(ctx.needs_input_grad)  # else the kernel reuses one step of scratch
        if mode == "LSTM":
            saved = ext.lstm_forward(gi, h0, c0, w_hh, b_hh, ln_hh, lnc_w, lnc_b, m_rec, zh, zc,
                                     flag, p, save)
            hs, cs = saved[0], saved[1]
            outs = (hs[1:], hs[-1], cs[-1])
        else:
            saved = ext.gru_forward(gi, h0, w_hh, b_hh, ln_hh, m_rec, zh, flag, p, save)
            hs = saved[0]
            outs = (hs[1:], hs[-1])
        if any(ctx.needs_input_grad):
            ctx.mode, ctx.zone = mode, zone
            ctx.save_for_backward(*saved, w_hh, b_hh, ln_hh, lnc_w, lnc_b, m_rec, zh, zc)
        return outs

    @staticmethod
    def backward(ctx, dout, dh_n, dc_n=None):
        ext, (flag, p) = _build.load(), ctx.zone
        *saved, w_hh, b_hh, ln_hh, lnc_w, lnc_b, m_rec, zh, zc = ctx.saved_tensors
        dout = dout.contiguous() if dout is not None else torch.zeros_like(saved[0][1:])
        dh_n = dh_n if dh_n is not None else torch.zeros_like(saved[0][0])
        hin = saved[0][:-1] if m_rec is None else saved[0][:-1] * m_rec  # (L, N, H)
        if ctx.mode == "LSTM":
            dc_n = dc_n if dc_n is not None else torch.zeros_like(saved[1][0])
            dgi, da, dh0, dc0, sums = ext.lstm_backward(dout, dh_n, dc_n, saved, w_hh, ln_hh,
                                                        lnc_w, m_rec, zh, zc, flag, p)
        else:
            dgi, _, da, dh0, sums = ext.gru_backward(dout, dh_n, saved, w_hh, ln_hh, m_rec, zh,
                                                     flag, p)
            dc0 = None
        G, H = dgi.shape[-1], hin.shape[-1]
        dw_hh = da.reshape(-1, G).T @ hin.reshape(-1, H)  # (G, H): one product over all steps
        # the kernels summed the gain/shift grads per row: (d b_hh, d ln_hh[, d lnc_w, d lnc_b])
        db_hh = sums[:G] if b_hh is not None else None
        dln_hh = sums[G:2 * G] if ln_hh is not None else None
        dlnc_w = sums[2 * G:2 * G + H] if lnc_w is not None else None
        dlnc_b = sums[2 * G + H:] if lnc_b is not None else None
        return (None, None, dgi, dh0, dc0, dw_hh, db_hh, dln_hh, dlnc_w, dlnc_b, None, None, None)


def input_gates(x: Tensor, w: CellWeights) -> Tensor:
    """``LN_ih(x W_ih^T) + b_ih`` of all steps ``(L, N, H_in) -> (L, N, G*H)``, one product;
    ``b_ih`` is the layer norm's shift (or the product's bias without layer norm)."""
    flat = x.reshape(-1, x.shape[-1])  # (L*N, H_in)
    if w.ln_ih is not None:
        gi = flat @ w.w_ih.T  # (L*N, G*H)
        gi = F.layer_norm(gi, (gi.shape[-1],), w.ln_ih, w.b_ih, LN_EPS)
    elif w.b_ih is not None:
        gi = torch.addmm(w.b_ih, flat, w.w_ih.T)
    else:
        gi = flat @ w.w_ih.T
    return gi.view(x.shape[0], x.shape[1], -1)


def layer_forward(mode: str, x: Tensor, state, w: CellWeights, m: SequenceMasks):
    """One layer and direction: ``x`` ``(L, N, H_in)``, ``state`` ``h`` or ``(h, c)`` ``(N, H)``.
    Returns ``(out (L, N, H), h_n or (h_n, c_n))`` as the reference time loop does."""
    gi = input_gates(x, w).contiguous()  # (L, N, G*H)
    h0, c0 = state if mode == "LSTM" else (state, None)
    zone = _zone(m.zone_h)
    zh = m.zone_h.contiguous() if zone[0] == 1 else None
    zc = m.zone_c.contiguous() if zone[0] == 1 and mode == "LSTM" else None
    res = CpuScan.apply(mode, zone, gi, h0.contiguous(), None if c0 is None else c0.contiguous(),
                        w.w_hh, w.b_hh, w.ln_hh, w.ln_c_w, w.ln_c_b, m.rec, zh, zc)
    return res[0], (tuple(res[1:]) if mode == "LSTM" else res[1])


def supports(layer, batch: SequenceBatch) -> bool:
    """Whether :func:`run` takes this call: CPU float32/float64, LSTM/GRU, no lengths, no
    projection, and the kernels built (else the caller uses :func:`rnnkit.nn.fast.run`)."""
    x = batch.x
    return (x.device.type == "cpu" and x.dtype in (torch.float32, torch.float64)
            and layer.mode in ("LSTM", "GRU") and layer.proj_size == 0
            and batch.lengths is None and _build.load() is not None)


def run(layer, batch: SequenceBatch, hx: tuple[Tensor, ...]):
    """Drop-in for :func:`rnnkit.nn.fast.run`: ``(output (L, N, D*H), (h_n,) or (h_n, c_n))``."""
    return stack_layers(layer, batch, hx,
                        lambda xs, state, w, m: layer_forward(layer.mode, xs, state, w, m))
