"""Triton kernels: the pointwise half of one LSTM / GRU step, forward and backward.

One program per batch row does everything after the recurrent matrix product of one step
(:func:`rnnkit.nn.functional.lstm_recur` / :func:`~rnnkit.nn.functional.gru_recur`):

* forward: layer norm of the recurrent gate pre-activations ``a = (h_prev * m_rec) W_hh^T``
  over the ``G*H`` gates of the row, ``+ b_hh``, ``+ gi``, the gate nonlinearities, the
  state update (LSTM: layer norm of ``c`` before its ``tanh``), zoneout; it stores what the
  backward needs (gate activations, normalised ``a`` and its ``1/std``, normalised ``c``);
* backward: the same step in reverse, giving ``dgi`` (the gradient of the hoisted input
  gates), ``da`` (fed to one GEMM ``da W_hh`` for ``dh_prev``) and the carried ``dh``/``dc``.

Symbols as in :mod:`rnnkit.nn.functional`: ``N`` batch, ``H`` hidden, gates LSTM i, f, g, o
and GRU r, z, n, each a block of ``H`` columns in a row of ``G*H``.

Flags (compile-time): ``LN`` layer norm on; ``ZONE`` 0 off, 1 a 0/1 mask per step
(training), 2 the constant ``zp`` (inference); ``REC`` a recurrent-dropout mask is applied
to ``dh`` in backward (the forward applies it before the GEMM); ``SAVE`` store for backward;
``LN_IH`` (streaming only) ``gi`` is the raw ``x W_ih^T`` and gets its layer norm and ``b_ih``
here; ``ACC`` (backward) the per-step gradients of the gains and shifts (``b_hh``, ``ln_hh``,
LSTM ``lnc_w``/``lnc_b``) are added into per-row accumulators (each program owns its row, so
no atomics; one ``sum(0)`` over the ``N`` rows after the loop) instead of being stored per
step and reduced over ``(L, N, G*H)`` tensors afterwards. Everything is computed in float32.
"""

from __future__ import annotations

import os

import triton
import triton.language as tl

EPS = 1e-5  # rnnkit.nn.functional.LN_EPS


@triton.jit
def _sigmoid(x):
    return 1.0 / (1.0 + tl.exp(-x))


@triton.jit
def _tanh(x):
    return 2.0 / (1.0 + tl.exp(-2.0 * x)) - 1.0  # exact tanh; no libdevice needed


@triton.jit
def _load(ptr, cols, mask):
    return tl.load(ptr + cols, mask=mask, other=0.0).to(tl.float32)


@triton.jit
def _keep(z_ptr, row, H, cols, mask, zp, ZONE: tl.constexpr):
    """Zoneout keep-previous weight of this row: the mask (ZONE 1) or the constant (ZONE 2)."""
    if ZONE == 1:
        return _load(z_ptr + row * H, cols, mask)
    else:
        return tl.zeros_like(cols.to(tl.float32)) + zp


@triton.jit
def _ln_gates(ptr, off, G: tl.constexpr, H, cols, mask, gamma_ptr, beta_ptr, eps, LN: tl.constexpr):
    """Load G gate blocks of one row, layer-normalise them over all G*H, times gain plus shift.

    Returns (normed gates with gain and shift applied, normalised blocks, 1/std)."""
    a0 = _load(ptr + off, cols, mask)
    a1 = _load(ptr + off + H, cols, mask)
    a2 = _load(ptr + off + 2 * H, cols, mask)
    if G == 4:
        a3 = _load(ptr + off + 3 * H, cols, mask)
    else:
        a3 = tl.zeros_like(a0)
    rstd = 1.0
    if LN:
        n = G * H
        mean = (tl.sum(a0, 0) + tl.sum(a1, 0) + tl.sum(a2, 0) + tl.sum(a3, 0)) / n
        a0 = tl.where(mask, a0 - mean, 0.0)
        a1 = tl.where(mask, a1 - mean, 0.0)
        a2 = tl.where(mask, a2 - mean, 0.0)
        if G == 4:
            a3 = tl.where(mask, a3 - mean, 0.0)
        var = (tl.sum(a0 * a0, 0) + tl.sum(a1 * a1, 0) + tl.sum(a2 * a2, 0) + tl.sum(a3 * a3, 0)) / n
        rstd = 1.0 / tl.sqrt(var + eps)
        a0, a1, a2, a3 = a0 * rstd, a1 * rstd, a2 * rstd, a3 * rstd
        g0 = a0 * _load(gamma_ptr, cols, mask)
        g1 = a1 * _load(gamma_ptr + H, cols, mask)
        g2 = a2 * _load(gamma_ptr + 2 * H, cols, mask)
        g3 = a3
        if G == 4:
            g3 = a3 * _load(gamma_ptr + 3 * H, cols, mask)
    else:
        g0, g1, g2, g3 = a0, a1, a2, a3
    g0 += _load(beta_ptr, cols, mask)
    g1 += _load(beta_ptr + H, cols, mask)
    g2 += _load(beta_ptr + 2 * H, cols, mask)
    if G == 4:
        g3 += _load(beta_ptr + 3 * H, cols, mask)
    return g0, g1, g2, g3, a0, a1, a2, a3, rstd


@triton.jit
def _ln_backward(d0, d1, d2, d3, x0, x1, x2, x3, rstd, n):
    """d(normalised x) -> d(x) for a layer norm over the n = G*H values of the four blocks."""
    m1 = (tl.sum(d0, 0) + tl.sum(d1, 0) + tl.sum(d2, 0) + tl.sum(d3, 0)) / n
    m2 = (tl.sum(d0 * x0, 0) + tl.sum(d1 * x1, 0) + tl.sum(d2 * x2, 0) + tl.sum(d3 * x3, 0)) / n
    return (rstd * (d0 - m1 - x0 * m2), rstd * (d1 - m1 - x1 * m2),
            rstd * (d2 - m1 - x2 * m2), rstd * (d3 - m1 - x3 * m2))


@triton.jit
def _acc(ptr, cols, mask, v):
    """``ptr[cols] += v`` for a row this program owns (no other program touches it)."""
    tl.store(ptr + cols, tl.load(ptr + cols, mask=mask, other=0.0) + v, mask=mask)


@triton.jit
def _acc4(ptr, off, H, cols, mask, v0, v1, v2, v3, G: tl.constexpr):
    _acc(ptr + off, cols, mask, v0)
    _acc(ptr + off + H, cols, mask, v1)
    _acc(ptr + off + 2 * H, cols, mask, v2)
    if G == 4:
        _acc(ptr + off + 3 * H, cols, mask, v3)


@triton.jit
def _store4(ptr, off, H, cols, mask, v0, v1, v2, v3, G: tl.constexpr):
    tl.store(ptr + off + cols, v0, mask=mask)
    tl.store(ptr + off + H + cols, v1, mask=mask)
    tl.store(ptr + off + 2 * H + cols, v2, mask=mask)
    if G == 4:
        tl.store(ptr + off + 3 * H + cols, v3, mask=mask)


# ---- LSTM ----------------------------------------------------------------------------------
@triton.jit
def lstm_fwd_step(a_ptr, gi_ptr, h_prev_ptr, c_prev_ptr, zh_ptr, zc_ptr,
                  ln_hh_ptr, b_hh_ptr, ln_ih_ptr, b_ih_ptr, lnc_w_ptr, lnc_b_ptr,
                  h_ptr, c_ptr, acts_ptr, ahat_ptr, rstd_ptr, chat_ptr, crstd_ptr, mrec_ptr, hin_ptr,
                  H, zp, eps,
                  LN: tl.constexpr, ZONE: tl.constexpr, SAVE: tl.constexpr, REC: tl.constexpr,
                  LN_IH: tl.constexpr, BLOCK_H: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK_H)
    mask = cols < H
    off = row * 4 * H
    # gates = gi + LN_hh(a) + b_hh  (N, 4H)
    p_i, p_f, p_g, p_o, ah_i, ah_f, ah_g, ah_o, rstd = _ln_gates(
        a_ptr, off, 4, H, cols, mask, ln_hh_ptr, b_hh_ptr, eps, LN)
    if LN_IH:
        q_i, q_f, q_g, q_o, _0, _1, _2, _3, _r = _ln_gates(
            gi_ptr, off, 4, H, cols, mask, ln_ih_ptr, b_ih_ptr, eps, LN)
    else:
        q_i = _load(gi_ptr + off, cols, mask)
        q_f = _load(gi_ptr + off + H, cols, mask)
        q_g = _load(gi_ptr + off + 2 * H, cols, mask)
        q_o = _load(gi_ptr + off + 3 * H, cols, mask)
    i = _sigmoid(p_i + q_i)
    f = _sigmoid(p_f + q_f)
    g = _tanh(p_g + q_g)
    o = _sigmoid(p_o + q_o)
    h_prev = _load(h_prev_ptr + row * H, cols, mask)
    c_prev = _load(c_prev_ptr + row * H, cols, mask)
    c_new = f * c_prev + i * g
    c_out = c_new
    crstd = 1.0
    if LN:  # layer norm of c over H, gain and shift
        mean = tl.sum(tl.where(mask, c_new, 0.0), 0) / H
        xc = tl.where(mask, c_new - mean, 0.0)
        crstd = 1.0 / tl.sqrt(tl.sum(xc * xc, 0) / H + eps)
        c_out = xc * crstd  # chat
        if SAVE:
            tl.store(chat_ptr + row * H + cols, c_out, mask=mask)
            tl.store(crstd_ptr + row, crstd)
        c_out = c_out * _load(lnc_w_ptr, cols, mask) + _load(lnc_b_ptr, cols, mask)
    h_new = o * _tanh(c_out)
    c = c_new
    h = h_new
    if ZONE != 0:
        c = c_new + _keep(zc_ptr, row, H, cols, mask, zp, ZONE) * (c_prev - c_new)
        h = h_new + _keep(zh_ptr, row, H, cols, mask, zp, ZONE) * (h_prev - h_new)
    tl.store(h_ptr + row * H + cols, h, mask=mask)
    tl.store(c_ptr + row * H + cols, c, mask=mask)
    if REC:  # the next step's GEMM input h * m_rec
        tl.store(hin_ptr + row * H + cols, h * _load(mrec_ptr + row * H, cols, mask), mask=mask)
    if SAVE:
        _store4(acts_ptr, off, H, cols, mask, i, f, g, o, 4)
        if LN:
            _store4(ahat_ptr, off, H, cols, mask, ah_i, ah_f, ah_g, ah_o, 4)
            tl.store(rstd_ptr + row, rstd)
        else:
            tl.store(chat_ptr + row * H + cols, c_new, mask=mask)


@triton.jit
def lstm_bwd_step(dy_ptr, dhrec_ptr, mrec_ptr, dh_in_ptr, dc_in_ptr, dh_out_ptr, dc_out_ptr,
                  c_prev_ptr, zh_ptr, zc_ptr, acts_ptr, ahat_ptr, rstd_ptr, chat_ptr, crstd_ptr,
                  ln_hh_ptr, lnc_w_ptr, lnc_b_ptr,
                  dpre_ptr, da_ptr, dcn_ptr, acc_b_ptr, acc_g_ptr, acc_cw_ptr, acc_cb_ptr,
                  H, zp,
                  LN: tl.constexpr, ZONE: tl.constexpr, REC: tl.constexpr, ACC: tl.constexpr,
                  BLOCK_H: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK_H)
    mask = cols < H
    off = row * 4 * H
    hrow = row * H
    # dh_t = dy_t + (zoneout carry from t+1) + m_rec * (da_{t+1} W_hh)
    dhrec = _load(dhrec_ptr + hrow, cols, mask)
    if REC:
        dhrec = dhrec * _load(mrec_ptr + hrow, cols, mask)
    dh = _load(dy_ptr + hrow, cols, mask) + _load(dh_in_ptr + hrow, cols, mask) + dhrec
    dc = _load(dc_in_ptr + hrow, cols, mask)
    dh_new = dh
    dc_new = dc
    dh_keep = tl.zeros_like(dh)
    dc_keep = tl.zeros_like(dc)
    if ZONE != 0:
        kh = _keep(zh_ptr, row, H, cols, mask, zp, ZONE)
        kc = _keep(zc_ptr, row, H, cols, mask, zp, ZONE)
        dh_new = (1.0 - kh) * dh
        dh_keep = kh * dh
        dc_new = (1.0 - kc) * dc
        dc_keep = kc * dc
    i = _load(acts_ptr + off, cols, mask)
    f = _load(acts_ptr + off + H, cols, mask)
    g = _load(acts_ptr + off + 2 * H, cols, mask)
    o = _load(acts_ptr + off + 3 * H, cols, mask)
    chat = _load(chat_ptr + hrow, cols, mask)  # c_new itself when LN is off
    c_out = chat
    if LN:
        c_out = chat * _load(lnc_w_ptr, cols, mask) + _load(lnc_b_ptr, cols, mask)
    tc = _tanh(c_out)
    d_o = dh_new * tc * o * (1.0 - o)
    dcn = dh_new * o * (1.0 - tc * tc)
    if LN:
        if ACC:  # d lnc_b += dcn, d lnc_w += dcn * chat (per row)
            _acc(acc_cb_ptr + hrow, cols, mask, dcn)
            _acc(acc_cw_ptr + hrow, cols, mask, dcn * chat)
        else:
            tl.store(dcn_ptr + hrow + cols, dcn, mask=mask)
        dchat = tl.where(mask, dcn * _load(lnc_w_ptr, cols, mask), 0.0)
        crstd = tl.load(crstd_ptr + row)
        m1 = tl.sum(dchat, 0) / H
        m2 = tl.sum(dchat * chat, 0) / H
        dcn = crstd * (dchat - m1 - chat * m2)
    dc_new += dcn
    c_prev = _load(c_prev_ptr + hrow, cols, mask)
    d_f = dc_new * c_prev * f * (1.0 - f)
    d_i = dc_new * g * i * (1.0 - i)
    d_g = dc_new * i * (1.0 - g * g)
    tl.store(dc_out_ptr + hrow + cols, dc_new * f + dc_keep, mask=mask)
    tl.store(dh_out_ptr + hrow + cols, dh_keep, mask=mask)
    _store4(dpre_ptr, off, H, cols, mask, d_i, d_f, d_g, d_o, 4)
    if ACC:  # d b_hh += d gates (per row)
        _acc4(acc_b_ptr, off, H, cols, mask, d_i, d_f, d_g, d_o, 4)
    if LN:
        x0 = _load(ahat_ptr + off, cols, mask)
        x1 = _load(ahat_ptr + off + H, cols, mask)
        x2 = _load(ahat_ptr + off + 2 * H, cols, mask)
        x3 = _load(ahat_ptr + off + 3 * H, cols, mask)
        if ACC:  # d ln_hh += d gates * ahat (per row)
            _acc4(acc_g_ptr, off, H, cols, mask, d_i * x0, d_f * x1, d_g * x2, d_o * x3, 4)
        e0 = d_i * _load(ln_hh_ptr, cols, mask)
        e1 = d_f * _load(ln_hh_ptr + H, cols, mask)
        e2 = d_g * _load(ln_hh_ptr + 2 * H, cols, mask)
        e3 = d_o * _load(ln_hh_ptr + 3 * H, cols, mask)
        rstd = tl.load(rstd_ptr + row)
        a0, a1, a2, a3 = _ln_backward(e0, e1, e2, e3, x0, x1, x2, x3, rstd, 4 * H)
        _store4(da_ptr, off, H, cols, mask, a0, a1, a2, a3, 4)


# ---- GRU -----------------------------------------------------------------------------------
@triton.jit
def gru_fwd_step(a_ptr, gi_ptr, h_prev_ptr, zh_ptr, ln_hh_ptr, b_hh_ptr, ln_ih_ptr, b_ih_ptr,
                 h_ptr, acts_ptr, ahat_ptr, rstd_ptr, mrec_ptr, hin_ptr,
                 H, zp, eps,
                 LN: tl.constexpr, ZONE: tl.constexpr, SAVE: tl.constexpr, REC: tl.constexpr,
                 LN_IH: tl.constexpr, BLOCK_H: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK_H)
    mask = cols < H
    off = row * 3 * H
    h_r, h_z, h_n, _g3, ah_r, ah_z, ah_n, _a3, rstd = _ln_gates(
        a_ptr, off, 3, H, cols, mask, ln_hh_ptr, b_hh_ptr, eps, LN)
    if LN_IH:
        i_r, i_z, i_n, _0, _1, _2, _3, _4, _r = _ln_gates(
            gi_ptr, off, 3, H, cols, mask, ln_ih_ptr, b_ih_ptr, eps, LN)
    else:
        i_r = _load(gi_ptr + off, cols, mask)
        i_z = _load(gi_ptr + off + H, cols, mask)
        i_n = _load(gi_ptr + off + 2 * H, cols, mask)
    r = _sigmoid(i_r + h_r)
    z = _sigmoid(i_z + h_z)
    n = _tanh(i_n + r * h_n)
    h_prev = _load(h_prev_ptr + row * H, cols, mask)
    h = n + z * (h_prev - n)
    if ZONE != 0:
        h = h + _keep(zh_ptr, row, H, cols, mask, zp, ZONE) * (h_prev - h)
    tl.store(h_ptr + row * H + cols, h, mask=mask)
    if REC:
        tl.store(hin_ptr + row * H + cols, h * _load(mrec_ptr + row * H, cols, mask), mask=mask)
    if SAVE:
        _store4(acts_ptr, off, H, cols, mask, r, z, n, n, 3)
        if LN:
            _store4(ahat_ptr, off, H, cols, mask, ah_r, ah_z, ah_n, ah_n, 3)
            tl.store(rstd_ptr + row, rstd)


@triton.jit
def gru_bwd_step(dy_ptr, dhrec_ptr, mrec_ptr, dh_in_ptr, dh_out_ptr, h_prev_ptr, zh_ptr,
                 acts_ptr, ahat_ptr, rstd_ptr, a_ptr, ln_hh_ptr, b_hh_ptr,
                 dgi_ptr, dgh_ptr, da_ptr, acc_b_ptr, acc_g_ptr,
                 H, zp,
                 LN: tl.constexpr, ZONE: tl.constexpr, REC: tl.constexpr, ACC: tl.constexpr,
                 BLOCK_H: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK_H)
    mask = cols < H
    off = row * 3 * H
    hrow = row * H
    dhrec = _load(dhrec_ptr + hrow, cols, mask)
    if REC:
        dhrec = dhrec * _load(mrec_ptr + hrow, cols, mask)
    dh = _load(dy_ptr + hrow, cols, mask) + _load(dh_in_ptr + hrow, cols, mask) + dhrec
    dh_new = dh
    dh_keep = tl.zeros_like(dh)
    if ZONE != 0:
        kh = _keep(zh_ptr, row, H, cols, mask, zp, ZONE)
        dh_new = (1.0 - kh) * dh
        dh_keep = kh * dh
    r = _load(acts_ptr + off, cols, mask)
    z = _load(acts_ptr + off + H, cols, mask)
    n = _load(acts_ptr + off + 2 * H, cols, mask)
    h_prev = _load(h_prev_ptr + hrow, cols, mask)
    # h_n gate value: LN_hh(a)_n + b_hh_n (a itself, plus b, without LN)
    if LN:
        x0 = _load(ahat_ptr + off, cols, mask)
        x1 = _load(ahat_ptr + off + H, cols, mask)
        x2 = _load(ahat_ptr + off + 2 * H, cols, mask)
        gh_n = x2 * _load(ln_hh_ptr + 2 * H, cols, mask) + _load(b_hh_ptr + 2 * H, cols, mask)
    else:
        gh_n = _load(a_ptr + off + 2 * H, cols, mask) + _load(b_hh_ptr + 2 * H, cols, mask)
    d_n = dh_new * (1.0 - z) * (1.0 - n * n)
    d_z = dh_new * (h_prev - n) * z * (1.0 - z)
    d_r = d_n * gh_n * r * (1.0 - r)
    tl.store(dh_out_ptr + hrow + cols, dh_keep + dh_new * z, mask=mask)
    _store4(dgi_ptr, off, H, cols, mask, d_r, d_z, d_n, d_n, 3)
    e_n = d_n * r
    # d(recurrent gates): kept per step only where it is d(a) itself (no LN; dgh is da
    # then) or where the gain/shift gradients are reduced after the loop (ACC off)
    if ACC:
        _acc4(acc_b_ptr, off, H, cols, mask, d_r, d_z, e_n, e_n, 3)
        if LN:
            _acc4(acc_g_ptr, off, H, cols, mask, d_r * x0, d_z * x1, e_n * x2, e_n, 3)
        else:
            _store4(dgh_ptr, off, H, cols, mask, d_r, d_z, e_n, e_n, 3)
    else:
        _store4(dgh_ptr, off, H, cols, mask, d_r, d_z, e_n, e_n, 3)
    if LN:
        e0 = d_r * _load(ln_hh_ptr, cols, mask)
        e1 = d_z * _load(ln_hh_ptr + H, cols, mask)
        e2 = e_n * _load(ln_hh_ptr + 2 * H, cols, mask)
        zero = tl.zeros_like(e0)
        rstd = tl.load(rstd_ptr + row)
        a0, a1, a2, _a3 = _ln_backward(e0, e1, e2, zero, x0, x1, x2, zero, rstd, 3 * H)
        _store4(da_ptr, off, H, cols, mask, a0, a1, a2, a2, 3)


def accumulate() -> bool:
    """Backward accumulates gain/shift gradients in the step kernels (default) unless
    ``RNNKIT_GPU_BWD_ACC=0`` (the older path: per-step stores, torch reductions after the
    loop). Read when a scan's loops are captured: call ``graphs.clear()`` after changing it."""
    return os.environ.get("RNNKIT_GPU_BWD_ACC", "1") != "0"


def dw_chunk() -> int:
    """``RNNKIT_GPU_DW_OVERLAP=k`` (k > 0, CUDA only): the weight gradient ``dW_hh`` is
    accumulated every ``k`` backward steps by a GEMM on a side stream, overlapping the
    latency-bound step loop, instead of one GEMM over all steps after it. 0 (default): off."""
    try:
        return max(0, int(os.environ.get("RNNKIT_GPU_DW_OVERLAP", "0")))
    except ValueError:
        return 0


def block_and_warps(H: int) -> tuple[int, int]:
    """BLOCK_H (a power of two >= H) and warps for a row of G*H values.

    ``RNNKIT_GPU_WARPS`` (a power of two) overrides the warps (a tuning experiment; read
    when a scan's loops are captured, so call ``graphs.clear()`` after changing it)."""
    block = triton.next_power_of_2(H)
    warps = 1 if block <= 64 else 2 if block <= 128 else 4 if block <= 512 else 8
    forced = os.environ.get("RNNKIT_GPU_WARPS")
    if forced:
        warps = int(forced)
    return block, warps
