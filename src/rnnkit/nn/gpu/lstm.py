"""The fused LSTM scan: buffers and the per-step loops of forward and backward.

Forward, per step ``t``: ``a = h_in[t] W_hh^T`` (one cuBLAS GEMM, ``(N, P) @ (P, 4H)``),
then :func:`~rnnkit.nn.gpu.kernels.lstm_fwd_step` (layer norm, gates, cell, zoneout).
Backward, per step from the last: :func:`~rnnkit.nn.gpu.kernels.lstm_bwd_step`, then one
GEMM ``da W_hh`` for the recurrent part of ``dh_{t-1}``. Weight gradients are single GEMMs
or reductions over all ``L*N`` rows at the end.

The input gates ``gi = LN_ih(x W_ih^T) + b_ih`` of all steps are an input (computed by
torch ops, so autograd takes ``dgi`` the rest of the way).
"""

from __future__ import annotations

import torch

from rnnkit.nn.gpu import kernels as K
from rnnkit.nn.gpu.spec import ScanSpec


def allocate(spec: ScanSpec) -> dict:
    """Every buffer of one scan (inputs, saved activations, gradients) for ``spec``."""
    L, N, H = spec.L, spec.N, spec.H
    G = 4 * H
    kw = {"device": spec.device, "dtype": torch.float32}
    z = lambda *s: torch.zeros(*s, **kw)  # noqa: E731
    b = {"gi": z(L, N, G), "w_hh": z(G, H), "b_hh": z(G), "ln_hh": z(G), "lnc_w": z(H), "lnc_b": z(H),
         "m_rec": z(N, H), "zh": z(L, N, H) if spec.zone == 1 else z(1), "zc": z(L, N, H) if spec.zone == 1 else z(1),
         "hs": z(L + 1, N, H), "cs": z(L + 1, N, H), "hins": z(L + 1, N, H) if spec.rec else z(1),
         "a": z(N, G)}
    if spec.save:
        b.update(acts=z(L, N, G), ahat=z(L, N, G) if spec.ln else z(1), rstd=z(L, N),
                 chat=z(L, N, H), crstd=z(L, N))
        b.update(dy=z(L, N, H), dhc=z(2, N, H), dcc=z(2, N, H), dhrec=z(N, H), dgi=z(L, N, G),
                 da=z(L, N, G) if spec.ln else None, dcn=z(L, N, H) if spec.ln else z(1))
        if b["da"] is None:
            b["da"] = b["dgi"]  # without LN, d(a) is d(gates)
    else:
        d = z(1)
        b.update(acts=d, ahat=d, rstd=d, chat=d, crstd=d)
    return b


def forward(spec: ScanSpec, b: dict) -> None:
    """Run the forward loop on the buffers; ``hs[0]``, ``cs[0]`` hold the initial state."""
    L, N, H = spec.L, spec.N, spec.H
    block, warps = K.block_and_warps(H)
    if spec.rec:
        torch.mul(b["hs"][0], b["m_rec"], out=b["hins"][0])
    src = b["hins"] if spec.rec else b["hs"]
    w_t = b["w_hh"].t()  # (H, 4H)
    zone1 = spec.zone == 1
    for t in range(L):
        torch.mm(src[t], w_t, out=b["a"])  # (N, 4H)
        saved = [b[k][t] if spec.save and (spec.ln or k != "ahat") else b[k]
                 for k in ("acts", "ahat", "rstd", "chat", "crstd")]
        K.lstm_fwd_step[(N,)](
            b["a"], b["gi"][t], b["hs"][t], b["cs"][t],
            b["zh"][t] if zone1 else b["zh"], b["zc"][t] if zone1 else b["zc"],
            b["ln_hh"], b["b_hh"], b["ln_hh"], b["b_hh"], b["lnc_w"], b["lnc_b"],
            b["hs"][t + 1], b["cs"][t + 1], *saved, b["m_rec"],
            b["hins"][t + 1] if spec.rec else b["hins"],
            H, spec.zp, K.EPS,
            LN=spec.ln, ZONE=spec.zone, SAVE=spec.save, REC=spec.rec, LN_IH=False,
            BLOCK_H=block, num_warps=warps)


def backward(spec: ScanSpec, b: dict) -> dict:
    """BPTT on the buffers: ``dy`` (L, N, H), ``dhc[0]`` = dh_n, ``dcc[0]`` = dc_n.

    Returns the gradients ``dgi, dh0, dc0, dw_hh, db_hh, dln_hh, dlnc_w, dlnc_b``."""
    L, N, H = spec.L, spec.N, spec.H
    block, warps = K.block_and_warps(H)
    zone1 = spec.zone == 1
    b["dhrec"].zero_()
    for t in reversed(range(L)):
        s = (L - 1 - t) % 2
        K.lstm_bwd_step[(N,)](
            b["dy"][t], b["dhrec"], b["m_rec"], b["dhc"][s], b["dcc"][s], b["dhc"][1 - s], b["dcc"][1 - s],
            b["cs"][t], b["zh"][t] if zone1 else b["zh"], b["zc"][t] if zone1 else b["zc"],
            b["acts"][t], b["ahat"][t] if spec.ln else b["ahat"], b["rstd"][t], b["chat"][t], b["crstd"][t],
            b["ln_hh"], b["lnc_w"], b["lnc_b"],
            b["dgi"][t], b["da"][t], b["dcn"][t] if spec.ln else b["dcn"],
            H, spec.zp,
            LN=spec.ln, ZONE=spec.zone, REC=spec.rec, BLOCK_H=block, num_warps=warps)
        torch.mm(b["da"][t], b["w_hh"], out=b["dhrec"])  # (N, 4H) @ (4H, H)
    s = L % 2
    dhrec = b["dhrec"] * b["m_rec"] if spec.rec else b["dhrec"]
    src = b["hins"] if spec.rec else b["hs"]
    g = {"dgi": b["dgi"], "dh0": b["dhc"][s] + dhrec, "dc0": b["dcc"][s],
         "dw_hh": b["da"].view(L * N, 4 * H).t() @ src[:L].reshape(L * N, H),  # (4H, H)
         "db_hh": b["dgi"].sum((0, 1))}
    if spec.ln:
        g["dln_hh"] = (b["dgi"] * b["ahat"]).sum((0, 1))
        g["dlnc_w"] = (b["dcn"] * b["chat"]).sum((0, 1))
        g["dlnc_b"] = b["dcn"].sum((0, 1))
    return g
