"""The autograd Function of one fused LSTM/GRU scan, and the layer loop around it.

:func:`fused_layer_forward` is the per-layer, per-direction entry point (the same split as
:mod:`rnnkit.nn.fast`): the input gates of all steps come from :func:`input_gates` (the
math of :func:`rnnkit.nn.functional.input_gates`: one GEMM, torch's layer norm with ``b_ih``
as its shift; autograd handles their backward), the recurrence is :class:`FusedScan` with a hand-written BPTT.
:func:`run` is a drop-in for :func:`rnnkit.nn.fast.run` on CUDA tensors.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from rnnkit.nn.functional import LN_EPS, CellWeights
from rnnkit.nn.gpu import graphs
from rnnkit.nn.gpu.spec import ScanSpec
from rnnkit.nn.masks import SequenceMasks
from rnnkit.nn.sequences import SequenceBatch
from rnnkit.nn.stepping import stack_layers

_INPUTS = ("gi", "w_hh", "b_hh", "ln_hh", "lnc_w", "lnc_b", "m_rec", "zh", "zc")


class FusedScan(torch.autograd.Function):
    """``(gi, h0, c0, w_hh, b_hh, ln_hh, lnc_w, lnc_b, m_rec, zh, zc) -> (out, h_n[, c_n])``.

    Shapes: gi ``(L, N, G*H)``; h0, c0 ``(N, H)``; w_hh ``(G*H, H)``; b_hh, ln_hh ``(G*H,)``;
    lnc_w, lnc_b ``(H,)``; m_rec ``(N, H)``; zh, zc ``(L, N, H)``. Absent ones are None
    (GRU: c0, lnc_w, lnc_b, zc always None); m_rec, zh, zc get no gradient.
    """

    @staticmethod
    def forward(ctx, spec: ScanSpec, gi, h0, c0, w_hh, b_hh, ln_hh, lnc_w, lnc_b, m_rec, zh, zc):
        slot, pooled = graphs.acquire(spec, use_graphs=True)
        b = slot.buf
        with torch.no_grad():
            for name, val in zip(_INPUTS, (gi, w_hh, b_hh, ln_hh, lnc_w, lnc_b, m_rec, zh, zc)):
                if val is not None:
                    b[name].copy_(val)
                elif name in b and name in ("b_hh", "ln_hh", "lnc_w", "lnc_b"):  # bias off: 0
                    b[name].fill_(1.0 if name in ("ln_hh", "lnc_w") else 0.0)
            b["hs"][0].copy_(h0)
            if spec.mode == "LSTM":
                b["cs"][0].copy_(c0)
            slot.run_forward()
            L = spec.L
            outs = [b["hs"][1:].clone(), b["hs"][L].clone()]  # out (L, N, H), h_n (N, H)
            if spec.mode == "LSTM":
                outs.append(b["cs"][L].clone())  # c_n
        if spec.save:
            ctx.spec, ctx.slot = spec, slot
            ctx.lease = graphs.Lease(slot) if pooled else None
        return tuple(outs)

    @staticmethod
    def backward(ctx, dout, dh_n, dc_n=None):
        spec, slot = ctx.spec, ctx.slot
        b = slot.buf
        with torch.no_grad():
            for buf, val in ((b["dy"], dout), (b["dhc"][0], dh_n)) + (
                    ((b["dcc"][0], dc_n),) if spec.mode == "LSTM" else ()):
                if val is None:
                    buf.zero_()
                else:
                    buf.copy_(val)
            g = slot.run_backward()
            pooled = ctx.lease is not None
            grads = {k: (v.clone() if pooled else v) for k, v in g.items()}
        if ctx.lease is not None:
            ctx.lease.release()
        ctx.slot = ctx.lease = None
        need = ctx.needs_input_grad
        names = ("dgi", "dh0", "dc0", "dw_hh", "db_hh", "dln_hh", "dlnc_w", "dlnc_b")
        out = [None] + [grads.get(n) if need[i + 1] else None for i, n in enumerate(names)]
        return tuple(out) + (None, None, None)


def input_gates(x: Tensor, w: CellWeights) -> Tensor:
    """``LN_ih(x W_ih^T) + b_ih`` of all steps, as :func:`rnnkit.nn.functional.input_gates`
    but with ``b_ih`` folded into the layer norm's shift (or the GEMM's bias without layer
    norm): one pass less over the ``(L, N, G*H)`` gates forward, and ``db_ih`` comes out of
    the layer-norm backward instead of a separate sum."""
    if w.ln_ih is not None:
        gi = x @ w.w_ih.T  # (..., G*H)
        return F.layer_norm(gi, (gi.shape[-1],), w.ln_ih, w.b_ih, LN_EPS)
    if w.b_ih is not None:
        return torch.addmm(w.b_ih, x.reshape(-1, x.shape[-1]), w.w_ih.T).view(*x.shape[:-1], -1)
    return x @ w.w_ih.T


def _zone_flag(keep) -> tuple[int, float]:
    if keep is None:
        return 0, 0.0
    if isinstance(keep, Tensor):
        return 1, 0.0
    return 2, float(keep)


def fused_layer_forward(mode: str, x: Tensor, state, w: CellWeights, m: SequenceMasks):
    """One layer and direction: ``x`` ``(L, N, H_in)``, ``state`` ``h`` or ``(h, c)`` ``(N, H)``.

    Returns ``(out (L, N, H), final)`` with ``final`` ``h_n`` or ``(h_n, c_n)``, as the
    reference ``time_loop`` does for this layer."""
    gi = input_gates(x, w).contiguous()  # (L, N, G*H): all steps in one GEMM
    h0, c0 = (state if mode == "LSTM" else (state, None))
    L, N, H = x.shape[0], x.shape[1], w.w_hh.shape[1]
    zone, zp = _zone_flag(m.zone_h)
    tensors = (gi, h0, c0, w.w_hh, w.b_hh, w.ln_hh, w.ln_c_w, w.ln_c_b)
    save = torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)
    spec = ScanSpec(mode, L, N, H, w.ln_hh is not None, zone, zp, m.rec is not None, save, x.device)
    zc = m.zone_c if mode == "LSTM" and zone == 1 else None
    res = FusedScan.apply(spec, gi, h0, c0, w.w_hh, w.b_hh, w.ln_hh, w.ln_c_w, w.ln_c_b,
                          m.rec, m.zone_h if zone == 1 else None, zc)
    return res[0], (tuple(res[1:]) if mode == "LSTM" else res[1])


def supports(layer, batch: SequenceBatch) -> bool:
    """Whether :func:`run` handles this call (else the caller falls back to ``fast.run``)."""
    return (batch.x.is_cuda and batch.x.dtype == torch.float32 and layer.mode in ("LSTM", "GRU")
            and layer.proj_size == 0 and batch.lengths is None)


def run(layer, batch: SequenceBatch, hx: tuple[Tensor, ...]):
    """Drop-in for :func:`rnnkit.nn.fast.run` (no ``lengths``, no projection):
    returns ``(output (L, N, D*H), (h_n,) or (h_n, c_n))``."""
    return stack_layers(layer, batch, hx,
                        lambda xs, state, w, m: fused_layer_forward(layer.mode, xs, state, w, m))
