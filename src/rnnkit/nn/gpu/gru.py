"""The fused GRU scan: buffers and the per-step loops of forward and backward.

As :mod:`rnnkit.nn.gpu.lstm` with gates r, z, n (``3H``) and no cell state. Without layer
norm the raw recurrent gates ``a`` of every step are kept (``ahat`` holds them), because
the backward of ``n = tanh(i_n + r * (a_n + b_hn))`` needs ``a_n``.
"""

from __future__ import annotations

import torch

from rnnkit.nn.gpu import kernels as K
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
        b.update(dy=z(L, N, H), dhc=z(2, N, H), dhrec=z(N, H), dgi=z(L, N, G), dgh=z(L, N, G),
                 da=z(L, N, G) if spec.ln else None)
        if b["da"] is None:
            b["da"] = b["dgh"]  # without LN, d(a) is d(recurrent gates)
    else:
        d = z(1)
        b.update(acts=d, ahat=d, rstd=d)
    return b


def _a_of(spec: ScanSpec, b: dict, t: int):
    """Where step t's raw recurrent gates go: kept per step without LN (backward needs a_n)."""
    return b["ahat"][t] if spec.save and not spec.ln else b["a"]


def forward(spec: ScanSpec, b: dict) -> None:
    """Run the forward loop on the buffers; ``hs[0]`` holds the initial state."""
    L, N, H = spec.L, spec.N, spec.H
    block, warps = K.block_and_warps(H)
    if spec.rec:
        torch.mul(b["hs"][0], b["m_rec"], out=b["hins"][0])
    src = b["hins"] if spec.rec else b["hs"]
    w_t = b["w_hh"].t()  # (H, 3H)
    for t in range(L):
        a = _a_of(spec, b, t)
        torch.mm(src[t], w_t, out=a)  # (N, 3H)
        s = spec.save
        K.gru_fwd_step[(N,)](
            a, b["gi"][t], b["hs"][t], b["zh"][t] if spec.zone == 1 else b["zh"],
            b["ln_hh"], b["b_hh"], b["ln_hh"], b["b_hh"],
            b["hs"][t + 1], b["acts"][t] if s else b["acts"], b["ahat"][t] if s and spec.ln else b["ahat"],
            b["rstd"][t] if s else b["rstd"], b["m_rec"], b["hins"][t + 1] if spec.rec else b["hins"],
            H, spec.zp, K.EPS,
            LN=spec.ln, ZONE=spec.zone, SAVE=spec.save, REC=spec.rec, LN_IH=False,
            BLOCK_H=block, num_warps=warps)


def backward(spec: ScanSpec, b: dict) -> dict:
    """BPTT on the buffers: ``dy`` (L, N, H), ``dhc[0]`` = dh_n.

    Returns the gradients ``dgi, dh0, dw_hh, db_hh, dln_hh``."""
    L, N, H = spec.L, spec.N, spec.H
    block, warps = K.block_and_warps(H)
    b["dhrec"].zero_()
    for t in reversed(range(L)):
        s = (L - 1 - t) % 2
        K.gru_bwd_step[(N,)](
            b["dy"][t], b["dhrec"], b["m_rec"], b["dhc"][s], b["dhc"][1 - s], b["hs"][t],
            b["zh"][t] if spec.zone == 1 else b["zh"], b["acts"][t], b["ahat"][t], b["rstd"][t],
            b["ahat"][t], b["ln_hh"], b["b_hh"], b["dgi"][t], b["dgh"][t], b["da"][t],
            H, spec.zp,
            LN=spec.ln, ZONE=spec.zone, REC=spec.rec, BLOCK_H=block, num_warps=warps)
        torch.mm(b["da"][t], b["w_hh"], out=b["dhrec"])  # (N, 3H) @ (3H, H)
    s = L % 2
    dhrec = b["dhrec"] * b["m_rec"] if spec.rec else b["dhrec"]
    src = b["hins"] if spec.rec else b["hs"]
    g = {"dgi": b["dgi"], "dh0": b["dhc"][s] + dhrec,
         "dw_hh": b["da"].view(L * N, 3 * H).t() @ src[:L].reshape(L * N, H),  # (3H, H)
         "db_hh": b["dgh"].sum((0, 1))}
    if spec.ln:
        g["dln_hh"] = (b["dgh"] * b["ahat"]).sum((0, 1))
    return g
