"""rnnkit's fast path, taken when an extra (layer norm, recurrent dropout, zoneout) rules
out torch's fused kernel.

It computes what :mod:`rnnkit.nn.reference` defines, with the work that does not depend on
the state hoisted out of the time loop:

* the input projection (and its layer norm and bias) of all L steps is one matrix product
  ``(L*N, H_in) @ (H_in, G*H)`` per layer and direction;
* the reversal of the backward direction is one gather per layer;
* the time loop keeps one matrix product per step for the recurrence plus the pointwise
  gate math.

:func:`step` is the streaming entry point: one step at inference with the state carried.
"""

from __future__ import annotations

from torch import Tensor

from rnnkit.nn import validation
from rnnkit.nn.functional import StepMasks, input_gates
from rnnkit.nn.sequences import SequenceBatch, valid_steps
from rnnkit.nn.stepping import initial, recur_for, stack_finals, stack_layers, time_loop


def run(layer, batch: SequenceBatch, hx: tuple[Tensor, ...]):
    """Returns ``(output (L, N, D*P), (h_n,) or (h_n, c_n))``."""
    L = batch.x.shape[0]
    valid = valid_steps(batch.lengths, L, batch.x.device)  # (L, N, 1) or None
    recur = recur_for(layer)

    def one_direction(xs, state, w, m):
        gi = input_gates(xs, w)  # (L, N, G*H): all steps in one product
        return time_loop(lambda t, s: recur(gi[t], s, w, m.at(t)), L, state, valid)

    return stack_layers(layer, batch, hx, one_direction)


def step(layer, x_t: Tensor, state):
    """One inference step of a unidirectional layer; see ``RecurrentLayer.step``."""
    owner = type(layer).__name__ + ".step"
    unbatched = x_t.dim() == 1
    x = x_t.unsqueeze(0) if unbatched else x_t  # (N, H_in)
    validation.check_features(x, layer.input_size, layer.weight_ih_l0.dtype, owner)
    if layer.validate_inputs:
        validation.check_finite(x, "x_t", owner)
    batch = SequenceBatch(x.unsqueeze(0), None, None, False, unbatched)
    hx = layer._initial_state(state, batch)
    zone = layer.zoneout or None
    masks = StepMasks(None, zone, zone if layer.mode == "LSTM" else None)
    recur, finals = recur_for(layer), []
    for k in range(layer.num_layers):
        w = layer.weights(k, 0)
        x, final = recur(input_gates(x, w), initial(hx, k), w, masks)
        finals.append(final)
    y = x.squeeze(0) if unbatched else x
    return y, layer._format_state(stack_finals(finals), unbatched)
