"""CUDA graphs: the per-step loops of a scan captured once per shape, and a streaming step.

A scan of ``L`` steps launches ``2L`` kernels forward and ``2L`` backward; at small sizes
the launch overhead, not the GPU, sets the pace. :func:`acquire` hands out a *slot*: the
buffers of one :class:`~rnnkit.nn.gpu.spec.ScanSpec` with its forward and backward loops
captured as two CUDA graphs over those buffers. Inputs are copied into the slot, the graph
is replayed, results are copied out. A slot stays leased while an autograd node still
needs its saved activations; a second forward of the same shape meanwhile (another layer,
the other direction) gets another slot.

:class:`GraphStep` is the streaming entry point: one inference step of a unidirectional
LSTM/GRU at a fixed batch size, with the state carried on the GPU, as one graph replay.
"""

from __future__ import annotations

import os
import weakref
from typing import Callable

import torch

from rnnkit.nn.gpu import gru, kernels as K, lstm
from rnnkit.nn.gpu.spec import ScanSpec

MAX_SLOTS = 64  # beyond this many captured slots (all shapes together), run eagerly
_slots: dict[ScanSpec, list["Slot"]] = {}


def enabled() -> bool:
    """Graphs are used on CUDA unless ``RNNKIT_CUDA_GRAPHS=0``."""
    return os.environ.get("RNNKIT_CUDA_GRAPHS", "1") != "0"


def module_for(spec: ScanSpec):
    return lstm if spec.mode == "LSTM" else gru


def _capture(fn: Callable[[], object]) -> tuple[torch.cuda.CUDAGraph, object]:
    """Warm ``fn`` up on a side stream (compiles kernels, sets cuBLAS up), then capture it."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        fn()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        out = fn()
    return graph, out


class Slot:
    """Buffers of one scan and, on CUDA, its forward/backward loops captured as graphs."""

    def __init__(self, spec: ScanSpec, graphs: bool) -> None:
        self.spec, self.busy = spec, False
        mod = module_for(spec)
        self.buf = mod.allocate(spec)
        self.fwd_graph = self.bwd_graph = None
        self.grads: dict | None = None
        if graphs:
            self.fwd_graph, _ = _capture(lambda: mod.forward(spec, self.buf))
            if spec.save:
                self.bwd_graph, self.grads = _capture(lambda: mod.backward(spec, self.buf))

    def run_forward(self) -> None:
        if self.fwd_graph is not None:
            self.fwd_graph.replay()
        else:
            module_for(self.spec).forward(self.spec, self.buf)

    def run_backward(self) -> dict:
        if self.bwd_graph is not None:
            self.bwd_graph.replay()
            return self.grads
        return module_for(self.spec).backward(self.spec, self.buf)


class Lease:
    """Holds a slot busy until the owner (an autograd node) is done with it or collected."""

    def __init__(self, slot: Slot) -> None:
        self.slot = slot
        slot.busy = True
        self._done = weakref.finalize(self, _release, slot)

    def release(self) -> None:
        self._done()


def _release(slot: Slot) -> None:
    slot.busy = False


def acquire(spec: ScanSpec, use_graphs: bool) -> tuple[Slot, bool]:
    """A free slot for ``spec``; returns ``(slot, pooled)``. Unpooled slots are one-off
    eager buffers (CPU, graphs off, capture in progress, or the slot cap reached)."""
    can_graph = (use_graphs and spec.device.type == "cuda" and enabled()
                 and not torch.cuda.is_current_stream_capturing())
    if not can_graph:
        return Slot(spec, graphs=False), False
    pool = _slots.setdefault(spec, [])
    for slot in pool:
        if not slot.busy:
            return slot, True
    if sum(len(p) for p in _slots.values()) >= MAX_SLOTS:
        _evict_free()  # drop idle slots of any shape (their graphs and buffers)
    if sum(len(p) for p in _slots.values()) >= MAX_SLOTS:
        return Slot(spec, graphs=False), False
    slot = Slot(spec, graphs=True)
    pool.append(slot)
    return slot, True


def _evict_free() -> None:
    for key in list(_slots):
        _slots[key] = [slot for slot in _slots[key] if slot.busy]
        if not _slots[key]:
            del _slots[key]


def clear() -> None:
    """Drop every captured slot (frees their GPU memory once no autograd node holds one)."""
    _slots.clear()


# ---- streaming ------------------------------------------------------------------------------
class CarriedState:
    """The state of a streaming stepper: ``h`` (and ``c``) buffers of two slots each,
    ``(2, num_layers, N, H)``, the current slot ``_cur`` (a step reads it and writes the
    other, so a captured graph never reads what it writes)."""

    @property
    def state(self):
        """The carried state in the layer's format: ``h`` or ``(h, c)``, each ``(num_layers, N, H)``."""
        h = self.h[self._cur]
        return (h, self.c[self._cur]) if self.mode == "LSTM" else h

    def reset(self, state=None) -> None:
        """Set the carried state (the layer's ``hx`` format) or zero it (None)."""
        parts = (None, None) if state is None else (state if isinstance(state, (tuple, list)) else (state,))
        for buf, val in zip((self.h, self.c), parts):
            if val is None:
                buf[self._cur].zero_()
            else:
                buf[self._cur].copy_(val)


class GraphStep(CarriedState):
    """Streaming inference of a unidirectional ``rnnkit.nn.LSTM``/``GRU`` on CUDA.

    ``stepper = GraphStep(layer, batch=1)``; ``y = stepper(x_t)`` with ``x_t`` ``(N, H_in)``
    on the layer's device returns ``y_t`` ``(N, H)`` (a view that the next call overwrites;
    clone it to keep it) and carries the state on the GPU; ``stepper.state`` reads it,
    ``stepper.reset(state)`` sets it (None: zeros). Same math as ``layer.step`` in eval
    mode (zoneout as its expectation). Per layer one graph holds two GEMMs and one fused
    pointwise kernel; two graphs alternate between two state buffers. The graph holds the
    parameters' addresses: build a new stepper after moving the layer or replacing them
    (in-place updates such as an optimizer step or ``load_state_dict`` are fine).
    """

    def __init__(self, layer, batch: int = 1, capture: bool = True) -> None:
        self.layer, self.mode = layer, layer.mode
        L, H, dev = layer.num_layers, layer.hidden_size, layer.weight_ih_l0.device
        kw = {"device": dev, "dtype": torch.float32}
        G = layer.gate_count * H
        self.x = torch.zeros(batch, layer.input_size, **kw)
        self.h = torch.zeros(2, L, batch, H, **kw)  # two state buffers, swapped each step
        self.c = torch.zeros(2, L, batch, H, **kw)
        self._gi = torch.zeros(L, batch, G, **kw)
        self._a = torch.zeros(L, batch, G, **kw)
        self._zeros = torch.zeros(G, **kw)
        self._ones = torch.ones(G, **kw)
        self._cur = 0
        self._graphs = None  # capture=False runs the same loop eagerly (CPU tests)
        if capture:
            with torch.no_grad():
                self._graphs = [_capture(lambda s=s: self._body(s))[0] for s in (0, 1)]
        self.reset()

    def _body(self, s: int) -> None:
        lay, H, N = self.layer, self.layer.hidden_size, self.x.shape[0]
        block, warps = K.block_and_warps(H)
        zone = 2 if lay.zoneout > 0 else 0
        x = self.x
        for k in range(lay.num_layers):
            w = lay.weights(k, 0)
            torch.mm(x, w.w_ih.t(), out=self._gi[k])  # raw x W_ih^T; LN and b_ih in the kernel
            torch.mm(self.h[s, k], w.w_hh.t(), out=self._a[k])  # (N, G*H)
            ln_ih = w.ln_ih if w.ln_ih is not None else self._ones
            ln_hh = w.ln_hh if w.ln_hh is not None else self._ones
            b_ih = w.b_ih if w.b_ih is not None else self._zeros
            b_hh = w.b_hh if w.b_hh is not None else self._zeros
            h_out, d = self.h[1 - s, k], self._zeros
            if self.mode == "LSTM":
                lnc_w = w.ln_c_w if w.ln_c_w is not None else self._ones
                lnc_b = w.ln_c_b if w.ln_c_b is not None else self._zeros
                K.lstm_fwd_step[(N,)](
                    self._a[k], self._gi[k], self.h[s, k], self.c[s, k], d, d,
                    ln_hh, b_hh, ln_ih, b_ih, lnc_w, lnc_b, h_out, self.c[1 - s, k],
                    d, d, d, d, d, d, d, H, lay.zoneout, K.EPS,
                    LN=lay.layer_norm, ZONE=zone, SAVE=False, REC=False, LN_IH=True,
                    BLOCK_H=block, num_warps=warps)
            else:
                K.gru_fwd_step[(N,)](
                    self._a[k], self._gi[k], self.h[s, k], d, ln_hh, b_hh, ln_ih, b_ih,
                    h_out, d, d, d, d, d, H, lay.zoneout, K.EPS,
                    LN=lay.layer_norm, ZONE=zone, SAVE=False, REC=False, LN_IH=True,
                    BLOCK_H=block, num_warps=warps)
            x = h_out

    def __call__(self, x_t: torch.Tensor) -> torch.Tensor:
        self.x.copy_(x_t)
        if self._graphs is None:
            with torch.no_grad():
                self._body(self._cur)
        else:
            self._graphs[self._cur].replay()
        self._cur = 1 - self._cur
        return self.h[self._cur, -1]

