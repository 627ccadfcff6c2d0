"""Streaming inference with one fused Triton kernel per layer and step.

:class:`FusedStep` is the small-batch streaming stepper: per layer ONE kernel does the
input mat-vec ``x W_ih^T``, the recurrent mat-vec ``h W_hh^T``, both layer norms, the
gates, the cell update (LSTM: layer norm of ``c``) and zoneout (inference: the constant
``zp``). One program (one CTA) owns a whole batch row, so the layer norms over the
``G*H`` gates need no cross-program reduction; the mat-vecs are broadcast-multiply plus
``tl.sum`` (no ``tl.dot``, so any batch size, batch 1 included). With CUDA graphs a step
is one graph replay holding ``num_layers`` kernel nodes (the older
:class:`~rnnkit.nn.gpu.graphs.GraphStep` holds two cuBLAS GEMMs and a kernel per layer).

Each program streams the whole of ``W_ih`` and ``W_hh`` (from L2 after the first step),
which suits small hidden sizes (the streaming case, e.g. H=128: 4H x H = 64k weights);
for large ``H`` or large batches use ``GraphStep`` / the sequence call instead.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

from rnnkit.nn.gpu.graphs import CarriedState
from rnnkit.nn.gpu.kernels import EPS, _sigmoid, _tanh


@triton.jit
def _matvec(w_ptr, v_ptr, row0, K, rows, rmask, BLOCK_H: tl.constexpr, BLOCK_K: tl.constexpr):
    """``W[row0 + rows, :K] @ v[:K]`` for a row-major ``W`` with ``K`` columns: (BLOCK_H,)."""
    kk = tl.arange(0, BLOCK_K)
    acc = tl.zeros([BLOCK_H, BLOCK_K], dtype=tl.float32)
    for k0 in range(0, K, BLOCK_K):
        kidx = k0 + kk
        km = kidx < K
        v = tl.load(v_ptr + kidx, mask=km, other=0.0).to(tl.float32)
        w = tl.load(w_ptr + (row0 + rows)[:, None] * K + kidx[None, :],
                    mask=rmask[:, None] & km[None, :], other=0.0).to(tl.float32)
        acc += w * v[None, :]
    return tl.sum(acc, 1)


@triton.jit
def _ln4(a0, a1, a2, a3, G: tl.constexpr, H, cols, mask, gamma_ptr, beta_ptr, eps, LN: tl.constexpr):
    """Layer norm over the G blocks of H values (masked columns are 0), gain, plus shift."""
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
        a0 = a0 * rstd * tl.load(gamma_ptr + cols, mask=mask, other=0.0)
        a1 = a1 * rstd * tl.load(gamma_ptr + H + cols, mask=mask, other=0.0)
        a2 = a2 * rstd * tl.load(gamma_ptr + 2 * H + cols, mask=mask, other=0.0)
        if G == 4:
            a3 = a3 * rstd * tl.load(gamma_ptr + 3 * H + cols, mask=mask, other=0.0)
    a0 += tl.load(beta_ptr + cols, mask=mask, other=0.0)
    a1 += tl.load(beta_ptr + H + cols, mask=mask, other=0.0)
    a2 += tl.load(beta_ptr + 2 * H + cols, mask=mask, other=0.0)
    if G == 4:
        a3 += tl.load(beta_ptr + 3 * H + cols, mask=mask, other=0.0)
    return a0, a1, a2, a3


@triton.jit
def lstm_stream_step(x_ptr, h_prev_ptr, c_prev_ptr, w_ih_ptr, w_hh_ptr,
                     ln_ih_ptr, b_ih_ptr, ln_hh_ptr, b_hh_ptr, lnc_w_ptr, lnc_b_ptr,
                     h_ptr, c_ptr, K_in, H, zp, eps,
                     LN: tl.constexpr, ZONE: tl.constexpr,
                     BLOCK_H: tl.constexpr, BLOCK_K: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK_H)
    mask = cols < H
    xr = x_ptr + row * K_in
    hr = h_prev_ptr + row * H
    # recurrent gates LN_hh(h W_hh^T) + b_hh
    p0 = _matvec(w_hh_ptr, hr, 0, H, cols, mask, BLOCK_H, BLOCK_K)
    p1 = _matvec(w_hh_ptr, hr, H, H, cols, mask, BLOCK_H, BLOCK_K)
    p2 = _matvec(w_hh_ptr, hr, 2 * H, H, cols, mask, BLOCK_H, BLOCK_K)
    p3 = _matvec(w_hh_ptr, hr, 3 * H, H, cols, mask, BLOCK_H, BLOCK_K)
    p0, p1, p2, p3 = _ln4(p0, p1, p2, p3, 4, H, cols, mask, ln_hh_ptr, b_hh_ptr, eps, LN)
    # input gates LN_ih(x W_ih^T) + b_ih
    q0 = _matvec(w_ih_ptr, xr, 0, K_in, cols, mask, BLOCK_H, BLOCK_K)
    q1 = _matvec(w_ih_ptr, xr, H, K_in, cols, mask, BLOCK_H, BLOCK_K)
    q2 = _matvec(w_ih_ptr, xr, 2 * H, K_in, cols, mask, BLOCK_H, BLOCK_K)
    q3 = _matvec(w_ih_ptr, xr, 3 * H, K_in, cols, mask, BLOCK_H, BLOCK_K)
    q0, q1, q2, q3 = _ln4(q0, q1, q2, q3, 4, H, cols, mask, ln_ih_ptr, b_ih_ptr, eps, LN)
    i = _sigmoid(p0 + q0)
    f = _sigmoid(p1 + q1)
    g = _tanh(p2 + q2)
    o = _sigmoid(p3 + q3)
    h_prev = tl.load(hr + cols, mask=mask, other=0.0)
    c_prev = tl.load(c_prev_ptr + row * H + cols, mask=mask, other=0.0)
    c_new = f * c_prev + i * g
    c_out = c_new
    if LN:
        mean = tl.sum(tl.where(mask, c_new, 0.0), 0) / H
        xc = tl.where(mask, c_new - mean, 0.0)
        crstd = 1.0 / tl.sqrt(tl.sum(xc * xc, 0) / H + eps)
        c_out = xc * crstd * tl.load(lnc_w_ptr + cols, mask=mask, other=0.0) \
            + tl.load(lnc_b_ptr + cols, mask=mask, other=0.0)
    h = o * _tanh(c_out)
    c = c_new
    if ZONE != 0:
        c = c_new + zp * (c_prev - c_new)
        h = h + zp * (h_prev - h)
    tl.store(h_ptr + row * H + cols, h, mask=mask)
    tl.store(c_ptr + row * H + cols, c, mask=mask)


@triton.jit
def gru_stream_step(x_ptr, h_prev_ptr, w_ih_ptr, w_hh_ptr, ln_ih_ptr, b_ih_ptr, ln_hh_ptr, b_hh_ptr,
                    h_ptr, K_in, H, zp, eps,
                    LN: tl.constexpr, ZONE: tl.constexpr,
                    BLOCK_H: tl.constexpr, BLOCK_K: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK_H)
    mask = cols < H
    xr = x_ptr + row * K_in
    hr = h_prev_ptr + row * H
    h_r = _matvec(w_hh_ptr, hr, 0, H, cols, mask, BLOCK_H, BLOCK_K)
    h_z = _matvec(w_hh_ptr, hr, H, H, cols, mask, BLOCK_H, BLOCK_K)
    h_n = _matvec(w_hh_ptr, hr, 2 * H, H, cols, mask, BLOCK_H, BLOCK_K)
    zero = tl.zeros_like(h_r)
    h_r, h_z, h_n, _0 = _ln4(h_r, h_z, h_n, zero, 3, H, cols, mask, ln_hh_ptr, b_hh_ptr, eps, LN)
    i_r = _matvec(w_ih_ptr, xr, 0, K_in, cols, mask, BLOCK_H, BLOCK_K)
    i_z = _matvec(w_ih_ptr, xr, H, K_in, cols, mask, BLOCK_H, BLOCK_K)
    i_n = _matvec(w_ih_ptr, xr, 2 * H, K_in, cols, mask, BLOCK_H, BLOCK_K)
    i_r, i_z, i_n, _1 = _ln4(i_r, i_z, i_n, zero, 3, H, cols, mask, ln_ih_ptr, b_ih_ptr, eps, LN)
    r = _sigmoid(i_r + h_r)
    z = _sigmoid(i_z + h_z)
    n = _tanh(i_n + r * h_n)
    h_prev = tl.load(hr + cols, mask=mask, other=0.0)
    h = n + z * (h_prev - n)
    if ZONE != 0:
        h = h + zp * (h_prev - h)
    tl.store(h_ptr + row * H + cols, h, mask=mask)


def block_sizes(H: int) -> tuple[int, int, int]:
    """(BLOCK_H, BLOCK_K, num_warps): a mat-vec tile of about 8k values over 8 warps."""
    block = triton.next_power_of_2(H)
    block_k = max(16, min(128, 8192 // block))
    warps = 4 if block <= 64 else 8
    return block, block_k, warps


class FusedStep(CarriedState):
    """Streaming inference of a unidirectional ``rnnkit.nn.LSTM``/``GRU`` (no projection) on
    CUDA, one fused kernel per layer and step.

    ``stepper = FusedStep(layer, batch=1)``; ``y = stepper(x_t)`` with ``x_t`` ``(N, H_in)``
    returns ``y_t`` ``(N, H)`` (a view that later calls overwrite; clone it to keep it)
    and carries the state on the device; ``stepper.state`` / ``stepper.reset(state)`` as
    :class:`~rnnkit.nn.gpu.graphs.GraphStep`. Same math as ``layer.step`` in eval mode.

    ``capture=True`` (CUDA): ``x_t`` is copied into a fixed buffer and one of two CUDA
    graphs (they alternate between two state buffers) is replayed. ``capture=False``:
    the kernels are launched directly on ``x_t`` (no copy; also how the CPU tests run
    them under Triton's interpreter). The graphs hold the parameters' addresses: build a
    new stepper after moving the layer or replacing them (in-place updates are fine).
    """

    def __init__(self, layer, batch: int = 1, capture: bool = True) -> None:
        if layer.mode not in ("LSTM", "GRU") or layer.bidirectional or layer.proj_size:
            raise ValueError("FusedStep: a unidirectional LSTM or GRU without projection")
        self.layer, self.mode = layer, layer.mode
        L, H, dev = layer.num_layers, layer.hidden_size, layer.weight_ih_l0.device
        kw = {"device": dev, "dtype": torch.float32}
        G = layer.gate_count * H
        for k in range(L):
            w = layer.weights(k, 0)
            if not (w.w_ih.is_contiguous() and w.w_hh.is_contiguous()):
                raise ValueError("FusedStep: needs contiguous weight matrices")
        self.x = torch.zeros(batch, layer.input_size, **kw)
        self.h = torch.zeros(2, L, batch, H, **kw)  # two state buffers, swapped each step
        self.c = torch.zeros(2, L, batch, H, **kw)
        self._zeros = torch.zeros(G, **kw)
        self._ones = torch.ones(G, **kw)
        self._cur = 0
        self._graphs = None
        if capture:
            from rnnkit.nn.gpu.graphs import _capture
            with torch.no_grad():
                self._graphs = [_capture(lambda s=s: self._body(s, self.x))[0] for s in (0, 1)]
        self.reset()

    def _body(self, s: int, x: torch.Tensor) -> None:
        lay, H, N = self.layer, self.layer.hidden_size, self.x.shape[0]
        block, block_k, warps = block_sizes(H)
        zone = 2 if lay.zoneout > 0 else 0
        for k in range(lay.num_layers):
            w = lay.weights(k, 0)
            ln_ih = w.ln_ih if w.ln_ih is not None else self._ones
            ln_hh = w.ln_hh if w.ln_hh is not None else self._ones
            b_ih = w.b_ih if w.b_ih is not None else self._zeros
            b_hh = w.b_hh if w.b_hh is not None else self._zeros
            h_out = self.h[1 - s, k]
            K_in = w.w_ih.shape[1]
            if self.mode == "LSTM":
                lnc_w = w.ln_c_w if w.ln_c_w is not None else self._ones
                lnc_b = w.ln_c_b if w.ln_c_b is not None else self._zeros
                lstm_stream_step[(N,)](
                    x, self.h[s, k], self.c[s, k], w.w_ih, w.w_hh, ln_ih, b_ih, ln_hh, b_hh,
                    lnc_w, lnc_b, h_out, self.c[1 - s, k], K_in, H, float(lay.zoneout), EPS,
                    LN=lay.layer_norm, ZONE=zone, BLOCK_H=block, BLOCK_K=block_k, num_warps=warps)
            else:
                gru_stream_step[(N,)](
                    x, self.h[s, k], w.w_ih, w.w_hh, ln_ih, b_ih, ln_hh, b_hh, h_out,
                    K_in, H, float(lay.zoneout), EPS,
                    LN=lay.layer_norm, ZONE=zone, BLOCK_H=block, BLOCK_K=block_k, num_warps=warps)
            x = h_out

    def __call__(self, x_t: torch.Tensor) -> torch.Tensor:
        if self._graphs is None:
            x = x_t if (x_t.is_contiguous() and x_t.dtype == torch.float32
                        and x_t.shape == self.x.shape) else self.x.copy_(x_t)
            with torch.no_grad():
                self._body(self._cur, x)
        else:
            self.x.copy_(x_t)
            self._graphs[self._cur].replay()
        self._cur = 1 - self._cur
        return self.h[self._cur, -1]

