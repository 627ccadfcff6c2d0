"""The fused GRU scan: buffers and the per-step loops of forward and backward.

As :mod:`rnnkit.nn.gpu.lstm` with gates r, z, n (``3H``) and no cell state. Without layer
norm the raw recurrent gates ``a`` of every step are kept (``ahat`` holds them), because
the backward of ``n = tanh(i_n + r * (a_n + b_hn))`` needs ``a_n``.
"""

from __future__ import annotations

import torch

from rnnkit.nn.gpu import kernels as K, lstm
from rnnkit.nn.gpu.spec import ScanSpec


def allocate(spec: ScanSpec) -> dict:
    """Every buffer of one scan (inputs, saved activations, gradients) for ``spec``."""
    L, N, H = spec.L, spec.N, spec.H
    G = 3 * H
    kw = {"device": spec.device, "dtype": torch.float32}
    z = lambda *s: torch.zeros(*s, **kw)  # noqa: E731
    b = {"gi": z(L, N, G), "w_hh": z(G, H), "b_hh": z(G), "ln_hh": z(G),
         "m_rec": z(N, H), "zh": z(L, N, H) if spec.zone == 1 else z(1),
         "hs": z(L + 1, N, H), "hins": z(L + 1, N, H) if spec.rec else z(1), "a": z(N, G)}
    if spec.save:
        b.update(acts=z(L, N, G), ahat=z(L, N, G), rstd=z(L, N))
        acc = K.accumulate()
        b.update(dy=z(L, N, H), dhc=z(2, N, H), dhrec=z(N, H), dgi=z(L, N, G),
                 dgh=z(1) if spec.ln and acc else z(L, N, G), da=z(L, N, G) if spec.ln else None)
        if b["da"] is None:
            b["da"] = b["dgh"]  # without LN, d(a) is d(recurrent gates)
        if acc:  # per-row accumulators of the gain/shift gradients (see kernels.ACC)
            b.update(acc_b=z(N, G), acc_g=z(N, G) if spec.ln else z(1))
        lstm._dw_setup(spec, b, G)
    else:
        d = z(1)
        b.update(acts=d, ahat=d, rstd=d)
    return b


def _a_of(spec: ScanSpec, b: dict, t: int):
    """Where step t's raw recurrent gates go: kept per step without LN (backward needs a_n)."""
    return b["ahat"][t] if spec.save and not spec.ln else b["a"]


def fwd_kernel(spec: ScanSpec, b: dict, t: int, block: int, warps: int) -> None:
    """The pointwise kernel of forward step ``t`` (after ``a = h_in[t] W_hh^T``)."""
    N, H, sv = spec.N, spec.H, spec.save
    K.gru_fwd_step[(N,)](
        _a_of(spec, b, t), b["gi"][t], b["hs"][t], b["zh"][t] if spec.zone == 1 else b["zh"],
        b["ln_hh"], b["b_hh"], b["ln_hh"], b["b_hh"],
        b["hs"][t + 1], b["acts"][t] if sv else b["acts"], b["ahat"][t] if sv and spec.ln else b["ahat"],
        b["rstd"][t] if sv else b["rstd"], b["m_rec"], b["hins"][t + 1] if spec.rec else b["hins"],
        H, spec.zp, K.EPS,
        LN=spec.ln, ZONE=spec.zone, SAVE=spec.save, REC=spec.rec, LN_IH=False,
        BLOCK_H=block, num_warps=warps)


def bwd_kernel(spec: ScanSpec, b: dict, t: int, block: int, warps: int) -> None:
    """The pointwise kernel of backward step ``t`` (before ``dh_rec = da[t] W_hh``)."""
    L, N, H = spec.L, spec.N, spec.H
    s = (L - 1 - t) % 2
    acc = "acc_b" in b
    d = b["rstd"]  # a placeholder pointer for the accumulators when ACC is off
    K.gru_bwd_step[(N,)](
        b["dy"][t], b["dhrec"], b["m_rec"], b["dhc"][s], b["dhc"][1 - s], b["hs"][t],
        b["zh"][t] if spec.zone == 1 else b["zh"], b["acts"][t], b["ahat"][t], b["rstd"][t],
        b["ahat"][t], b["ln_hh"], b["b_hh"], b["dgi"][t],
        b["dgh"][t] if b["dgh"].dim() == 3 else b["dgh"], b["da"][t],
        b["acc_b"] if acc else d, b["acc_g"] if acc else d,
        H, spec.zp,
        LN=spec.ln, ZONE=spec.zone, REC=spec.rec, ACC=acc, BLOCK_H=block, num_warps=warps)


def forward(spec: ScanSpec, b: dict) -> None:
    """Run the forward loop on the buffers; ``hs[0]`` holds the initial state."""
    block, warps = K.block_and_warps(spec.H)
    if spec.rec:
        torch.mul(b["hs"][0], b["m_rec"], out=b["hins"][0])
    src = b["hins"] if spec.rec else b["hs"]
    w_t = b["w_hh"].t()  # (H, 3H)
    for t in range(spec.L):
        torch.mm(src[t], w_t, out=_a_of(spec, b, t))  # (N, 3H)
        fwd_kernel(spec, b, t, block, warps)


def backward(spec: ScanSpec, b: dict) -> dict:
    """BPTT on the buffers: ``dy`` (L, N, H), ``dhc[0]`` = dh_n.

    Returns the gradients ``dgi, dh0, dw_hh, db_hh, dln_hh``."""
    L, N, H = spec.L, spec.N, spec.H
    G = 3 * H
    block, warps = K.block_and_warps(H)
    acc = "acc_b" in b
    chunk = b.get("dw_chunk", 0)
    src = b["hins"] if spec.rec else b["hs"]
    b["dhrec"].zero_()
    if acc:
        b["acc_b"].zero_()
        b["acc_g"].zero_()
    hi = L
    for t in reversed(range(L)):
        bwd_kernel(spec, b, t, block, warps)
        torch.mm(b["da"][t], b["w_hh"], out=b["dhrec"])  # (N, 3H) @ (3H, H)
        if chunk and (t == 0 or (L - t) % chunk == 0):
            lstm.dw_flush(b, src, t, hi, G, H)
            hi = t
    s = L % 2
    dhrec = b["dhrec"] * b["m_rec"] if spec.rec else b["dhrec"]
    g = {"dgi": b["dgi"], "dh0": b["dhc"][s] + dhrec}
    if chunk:
        lstm.dw_join(b)
        g["dw_hh"] = b["dw"]
    else:
        g["dw_hh"] = b["da"].view(L * N, G).t() @ src[:L].reshape(L * N, H)  # (3H, H)
    if acc:
        g["db_hh"] = b["acc_b"].sum(0)
        if spec.ln:
            g["dln_hh"] = b["acc_g"].sum(0)
    else:
        g["db_hh"] = b["dgh"].sum((0, 1))
        if spec.ln:
            g["dln_hh"] = (b["dgh"] * b["ahat"]).sum((0, 1))
    return g
