"""Streaming inference on the CPU: one call per time step, the state kept inside.

>>> layer = rnnkit.nn.LSTM(32, 128, layer_norm=True).eval()
>>> step = Stepper(layer)                       # snapshot of the weights, zero state
>>> for x_t in stream:                          # x_t (1, 32) or (32,)
...     y_t = step(x_t)                         # (1, 128); step.state carries (h, c)

``layer.step(x_t, state)`` validates its arguments and rebuilds the state tuple on every
call; a :class:`Stepper` checks the layer once, holds the weights transposed and
contiguous and the state in place, and runs every layer of a step in one C++ call
(``Streamer`` in ``stream.h``: register-blocked mat-vecs and the gate math with the
inference form of the extras). Without the compiled kernels (or for float64, proj_size,
the Elman RNN) it falls back to ``layer.step`` with the same interface.

The weights are a snapshot: after changing the layer's parameters call :meth:`refresh`.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit.errors import ConfigError
from rnnkit.nn.cpu import _build


def _fast_ok(layer) -> bool:
    w = layer.weight_ih_l0
    return (layer.mode in ("LSTM", "GRU") and layer.proj_size == 0 and w.device.type == "cpu"
            and w.dtype == torch.float32 and _build.load() is not None)


class Stepper:
    """One inference step of a unidirectional ``rnnkit.nn`` layer per call.

    ``Stepper(layer, batch=1)``; ``stepper(x_t)`` with ``x_t`` ``(N, H_in)`` (or ``(H_in,)``
    at batch 1) returns ``y_t`` ``(N, H)`` and advances :attr:`state` (the layer's ``hx``
    format: ``h`` or ``(h, c)``, each ``(num_layers, N, H)``). ``reset(state=None)`` sets it.
    """

    def __init__(self, layer, batch: int = 1) -> None:
        owner = type(layer).__name__
        if layer.bidirectional:
            raise ConfigError(f"{owner} Stepper: a bidirectional layer needs the whole sequence; "
                              "use forward() or a unidirectional layer for streaming")
        if layer.training and (layer.has_extras or layer.dropout > 0):
            raise ConfigError(f"{owner} Stepper: runs at inference only; call .eval() first "
                              "(its regularisers draw masks per sequence in training)")
        self.layer, self.batch = layer, int(batch)
        self.fast = _fast_ok(layer)
        self.refresh()

    def refresh(self) -> None:
        """Take a new snapshot of the layer's weights; the state is reset to zeros."""
        layer = self.layer
        if not self.fast:
            self._state = layer.zero_state(self.batch)
            self.step = self._layer_step
            return
        per_layer = []
        for k in range(layer.num_layers):
            w = layer.weights(k, 0)
            per_layer.append([w.w_ih, w.w_hh, w.b_ih, w.b_hh, w.ln_ih, w.ln_hh, w.ln_c_w, w.ln_c_b])
        self._impl = _build.load().Streamer(layer.mode, per_layer, layer.hidden_size,
                                            float(layer.zoneout), self.batch)
        self.step = self._impl.step  # the hot loop's one C++ call per step

    def __call__(self, x_t: Tensor) -> Tensor:
        return self.step(x_t)

    def _layer_step(self, x_t: Tensor) -> Tensor:
        with torch.no_grad():
            y, self._state = self.layer.step(x_t, self._state)
        return y

    @property
    def state(self):
        """The carried state in the layer's ``hx`` format (copies)."""
        if not self.fast:
            return self._state
        h = self._impl.h.clone()
        return (h, self._impl.c.clone()) if self.layer.mode == "LSTM" else h

    def reset(self, state=None) -> None:
        """Set the carried state (``None``: zeros) in the layer's ``hx`` format."""
        if state is None:
            state = self.layer.zero_state(self.batch)
        if not self.fast:
            self._state = state
            return
        h, c = state if self.layer.mode == "LSTM" else (state, None)
        self._impl.set_state(h, c)
