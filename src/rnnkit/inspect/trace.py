"""The unrolled network: every step's state and gate activations of a recurrent layer.

:func:`trace_layer` runs one sequence through an :mod:`rnnkit.nn` layer the way the plain
reference loop does (:mod:`rnnkit.nn.reference`), layer by layer, direction by direction,
step by step, and keeps what the fused kernels never materialise:

* LSTM (gate order i, f, g, o): with ``a_t = LN_ih(x_t W_ih^T) + b_ih + LN_hh(h_{t-1} W_hh^T) + b_hh``
  split in four, the gates ``i_t = σ(a_i)``, ``f_t = σ(a_f)``, ``g_t = tanh(a_g)``,
  ``o_t = σ(a_o)``, the cell state ``c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t`` and ``h_t``;
* GRU (gate order r, z, n): ``r_t = σ(i_r + h_r)``, ``z_t = σ(i_z + h_z)``,
  ``n_t = tanh(i_n + r_t ⊙ h_n)``, ``h_t = (1 - z_t) ⊙ n_t + z_t ⊙ h_{t-1}``;
* RNN: ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (no gates).

The state update itself is the layers' own step function
(:func:`rnnkit.nn.functional.lstm_recur` etc.), so the traced ``h`` is, by construction,
what the layer outputs; the gates are :func:`rnnkit.nn.functional.gate_activations`, the
gate functions those steps use, on the same pre-activations. The trace runs in
the layer's inference mode (zoneout by its expectation, no dropout), on one sequence.

Shapes: for a sequence of ``T`` steps every traced array is ``(T, size)`` in time order,
reverse directions included (their step ``t`` is the one that read input ``t``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from rnnkit.errors import ShapeError, problem
from rnnkit.nn.functional import gate_activations, input_gates
from rnnkit.nn.masks import draw_masks
from rnnkit.nn.stepping import initial, recur_for

GATE_NAMES = {
    "LSTM": ("input gate i", "forget gate f", "candidate g", "output gate o"),
    "GRU": ("reset gate r", "update gate z", "candidate n"),
    "RNN": (),
}


@dataclass
class DirectionTrace:
    """One layer and direction: ``h`` ``(T, P)``, ``c`` ``(T, H)`` (LSTM) and ``gates``
    (name -> ``(T, H)``), all numpy float64 in time order."""

    layer: int
    reverse: bool
    h: np.ndarray
    c: np.ndarray | None = None
    gates: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"layer {self.layer}" + (" (backward)" if self.reverse else "")


@dataclass
class LayerTrace:
    """Every layer and direction of one sequence; ``output`` ``(T, D*P)`` is the layer's
    output (the top layer, directions side by side)."""

    mode: str
    directions: list[DirectionTrace]
    output: np.ndarray

    def of_layer(self, k: int) -> list[DirectionTrace]:
        return [d for d in self.directions if d.layer == k]


def _check_input(layer, x: Tensor) -> Tensor:
    if not isinstance(x, Tensor) or x.dim() != 2 or x.shape[1] != layer.input_size or x.shape[0] < 1:
        got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ShapeError(problem("trace_layer: input", expected=f"one sequence (T >= 1, {layer.input_size})",
                                 got=got, fix="pass x[0] for the first sequence of a batch"))
    return x


@torch.no_grad()
def trace_layer(layer, x: Tensor, hx=None) -> LayerTrace:
    """Trace ``layer`` on one sequence ``x`` ``(T, input_size)``; ``hx`` is the usual
    initial state for batch 1 (``h_0`` ``(layers*D, 1, P)`` or ``(h_0, c_0)``) or None."""
    x = _check_input(layer, x)
    T = x.shape[0]
    w0 = next(layer.parameters())
    x = x.to(w0.dtype)
    if hx is None:
        hx = tuple(torch.zeros(shape, dtype=w0.dtype) for shape in layer.state_shapes(1))
    elif isinstance(hx, Tensor):
        hx = (hx,)
    was_training = layer.training
    layer.eval()
    try:
        masks, _ = draw_masks(layer, T, 1, x.device, x.dtype)
    finally:
        layer.train(was_training)
    recur, names = recur_for(layer), GATE_NAMES[layer.mode]
    inputs, traces = x[:, None, :], []  # (T, 1, F)
    for k in range(layer.num_layers):
        outputs = []
        for d in range(layer.num_directions):
            w, m = layer.weights(k, d), masks[k][d]
            order = range(T) if d == 0 else range(T - 1, -1, -1)
            state = initial(hx, k * layer.num_directions + d)
            hs, cs, gates = [None] * T, [None] * T, [[None] * T for _ in names]
            for step, t in enumerate(order):
                gi = input_gates(inputs[t], w)  # (1, G*H)
                h_prev = state[0] if isinstance(state, tuple) else state
                for j, value in enumerate(gate_activations(layer.mode, gi, h_prev, w, m.at(step))):
                    gates[j][t] = value[0]
                y, state = recur(gi, state, w, m.at(step))
                hs[t] = y[0]
                if isinstance(state, tuple):
                    cs[t] = state[1][0]
            outputs.append(torch.stack(hs))  # (T, P)
            traces.append(DirectionTrace(
                layer=k, reverse=d == 1, h=torch.stack(hs).double().numpy(),
                c=torch.stack(cs).double().numpy() if cs[0] is not None else None,
                gates={n: torch.stack(g).double().numpy() for n, g in zip(names, gates)}))
        inputs = torch.cat(outputs, dim=-1)[:, None, :]  # (T, 1, D*P): next layer's input
    return LayerTrace(layer.mode, traces, inputs[:, 0].double().numpy())
