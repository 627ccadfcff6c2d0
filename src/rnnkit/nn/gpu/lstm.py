"""The fused LSTM scan: buffers and the per-step loops of forward and backward.

Forward, per step ``t``: ``a = h_in[t] W_hh^T`` (one cuBLAS GEMM, ``(N, P) @ (P, 4H)``),
then :func:`~rnnkit.nn.gpu.kernels.lstm_fwd_step` (layer norm, gates, cell, zoneout).
Backward, per step from the last: :func:`~rnnkit.nn.gpu.kernels.lstm_bwd_step`, then one
GEMM ``da W_hh`` for the recurrent part of ``dh_{t-1}``. ``dW_hh`` is one GEMM over all
``L*N`` rows at the end (or, with ``RNNKIT_GPU_DW_OVERLAP=k``, chunks of ``k`` steps on a side
stream during the loop); the gain/shift gradients are summed per row inside the step kernels
and reduced over the ``N`` rows once at the end (``RNNKIT_GPU_BWD_ACC=0``: the older per-step
stores and torch reductions over ``(L, N, 4H)``).

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
        acc = K.accumulate()
        b.update(dy=z(L, N, H), dhc=z(2, N, H), dcc=z(2, N, H), dhrec=z(N, H), dgi=z(L, N, G),
                 da=z(L, N, G) if spec.ln else None, dcn=z(L, N, H) if spec.ln and not acc else z(1))
        if b["da"] is None:
            b["da"] = b["dgi"]  # without LN, d(a) is d(gates)
        if acc:  # per-row accumulators of the gain/shift gradients (see kernels.ACC)
            b.update(acc_b=z(N, G), acc_g=z(N, G) if spec.ln else z(1),
                     acc_cw=z(N, H) if spec.ln else z(1), acc_cb=z(N, H) if spec.ln else z(1))
        _dw_setup(spec, b, G)
    else:
        d = z(1)
        b.update(acts=d, ahat=d, rstd=d, chat=d, crstd=d)
    return b


def _dw_setup(spec: ScanSpec, b: dict, G: int) -> None:
    """With ``RNNKIT_GPU_DW_OVERLAP=k`` on CUDA: a ``(G, H)`` dW buffer and a side stream."""
    chunk = K.dw_chunk()
    if chunk and spec.device.type == "cuda":
        b.update(dw=torch.zeros(G, spec.H, device=spec.device), dw_chunk=chunk,
                 side=torch.cuda.Stream(device=spec.device))


def dw_flush(b: dict, src, t: int, hi: int, G: int, H: int) -> None:
    """dW += da[t:hi]^T src[t:hi] on the side stream, after what the current stream did so far."""
    main, side = torch.cuda.current_stream(), b["side"]
    side.wait_stream(main)
    with torch.cuda.stream(side):
        rows_da = b["da"][t:hi].reshape((hi - t) * b["da"].shape[1], G).t()
        rows_src = src[t:hi].reshape(-1, H)
        if hi == b["da"].shape[0]:  # the first chunk (backward runs from the last step)
            torch.mm(rows_da, rows_src, out=b["dw"])
        else:
            b["dw"].addmm_(rows_da, rows_src)


def dw_join(b: dict) -> None:
    torch.cuda.current_stream().wait_stream(b["side"])


def fwd_kernel(spec: ScanSpec, b: dict, t: int, block: int, warps: int) -> None:
    """The pointwise kernel of forward step ``t`` (after ``a = h_in[t] W_hh^T``)."""
    N, H = spec.N, spec.H
    zone1 = spec.zone == 1
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


def bwd_kernel(spec: ScanSpec, b: dict, t: int, block: int, warps: int) -> None:
    """The pointwise kernel of backward step ``t`` (before ``dh_rec = da[t] W_hh``)."""
    L, N, H = spec.L, spec.N, spec.H
    zone1 = spec.zone == 1
    s = (L - 1 - t) % 2
    acc = "acc_b" in b
    d = b["rstd"]  # a placeholder pointer for the accumulators when ACC is off
    K.lstm_bwd_step[(N,)](
        b["dy"][t], b["dhrec"], b["m_rec"], b["dhc"][s], b["dcc"][s], b["dhc"][1 - s], b["dcc"][1 - s],
        b["cs"][t], b["zh"][t] if zone1 else b["zh"], b["zc"][t] if zone1 else b["zc"],
        b["acts"][t], b["ahat"][t] if spec.ln else b["ahat"], b["rstd"][t], b["chat"][t], b["crstd"][t],
        b["ln_hh"], b["lnc_w"], b["lnc_b"],
        b["dgi"][t], b["da"][t], b["dcn"][t] if spec.ln and not acc else b["dcn"],
        b["acc_b"] if acc else d, b["acc_g"] if acc else d,
        b["acc_cw"] if acc else d, b["acc_cb"] if acc else d,
        H, spec.zp,
        LN=spec.ln, ZONE=spec.zone, REC=spec.rec, ACC=acc, BLOCK_H=block, num_warps=warps)


def forward(spec: ScanSpec, b: dict) -> None:
    """Run the forward loop on the buffers; ``hs[0]``, ``cs[0]`` hold the initial state."""
    L = spec.L
    block, warps = K.block_and_warps(spec.H)
    if spec.rec:
        torch.mul(b["hs"][0], b["m_rec"], out=b["hins"][0])
    src = b["hins"] if spec.rec else b["hs"]
    w_t = b["w_hh"].t()  # (H, 4H)
    for t in range(L):
        torch.mm(src[t], w_t, out=b["a"])  # (N, 4H)
        fwd_kernel(spec, b, t, block, warps)


def backward(spec: ScanSpec, b: dict) -> dict:
    """BPTT on the buffers: ``dy`` (L, N, H), ``dhc[0]`` = dh_n, ``dcc[0]`` = dc_n.

    Returns the gradients ``dgi, dh0, dc0, dw_hh, db_hh, dln_hh, dlnc_w, dlnc_b``."""
    L, N, H = spec.L, spec.N, spec.H
    G = 4 * H
    block, warps = K.block_and_warps(H)
    acc = "acc_b" in b
    chunk = b.get("dw_chunk", 0)
    src = b["hins"] if spec.rec else b["hs"]
    b["dhrec"].zero_()
    if acc:
        for k in ("acc_b", "acc_g", "acc_cw", "acc_cb"):
            b[k].zero_()
    hi = L
    for t in reversed(range(L)):
        bwd_kernel(spec, b, t, block, warps)
        torch.mm(b["da"][t], b["w_hh"], out=b["dhrec"])  # (N, 4H) @ (4H, H)
        if chunk and (t == 0 or (L - t) % chunk == 0):
            dw_flush(b, src, t, hi, G, H)
            hi = t
    s = L % 2
    dhrec = b["dhrec"] * b["m_rec"] if spec.rec else b["dhrec"]
    g = {"dgi": b["dgi"], "dh0": b["dhc"][s] + dhrec, "dc0": b["dcc"][s]}
    if chunk:
        dw_join(b)
        g["dw_hh"] = b["dw"]
    else:
        g["dw_hh"] = b["da"].view(L * N, G).t() @ src[:L].reshape(L * N, H)  # (4H, H)
    if acc:
        g["db_hh"] = b["acc_b"].sum(0)
        if spec.ln:
            g["dln_hh"] = b["acc_g"].sum(0)
            g["dlnc_w"] = b["acc_cw"].sum(0)
            g["dlnc_b"] = b["acc_cb"].sum(0)
    else:
        g["db_hh"] = b["dgi"].sum((0, 1))
        if spec.ln:
            g["dln_hh"] = (b["dgi"] * b["ahat"]).sum((0, 1))
            g["dlnc_w"] = (b["dcn"] * b["chat"]).sum((0, 1))
            g["dlnc_b"] = b["dcn"].sum((0, 1))
    return g
