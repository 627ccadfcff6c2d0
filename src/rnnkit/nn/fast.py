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

import torch
from torch import Tensor

from rnnkit.nn import validation
from rnnkit.nn.functional import StepMasks, input_gates
from rnnkit.nn.masks import draw_masks
from rnnkit.nn.sequences import SequenceBatch, reverse_padded, valid_steps
from rnnkit.nn.stepping import initial, recur_for, stack_finals, time_loop


def run(layer, batch: SequenceBatch, hx: tuple[Tensor, ...]):
    """Returns ``(output (L, N, D*P), (h_n,) or (h_n, c_n))``."""
    x, lengths = batch.x, batch.lengths  # (L, N, H_in)
    L, N = x.shape[0], x.shape[1]
    masks, between = draw_masks(layer, L, N, x.device, x.dtype)
    valid = valid_steps(lengths, L, x.device)  # (L, N, 1) or None
    recur, finals = recur_for(layer), []
    for k in range(layer.num_layers):
        inputs = [x] if layer.num_directions == 1 else [x, reverse_padded(x, lengths)]
        outputs = []
        for d, xs in enumerate(inputs):
            w, m = layer.weights(k, d), masks[k][d]
            gi = input_gates(xs, w)  # (L, N, G*H): all steps in one product

            def step(t, state, gi=gi, w=w, m=m):
                return recur(gi[t], state, w, m.at(t))

            y, final = time_loop(step, L, initial(hx, k * layer.num_directions + d), valid)
            outputs.append(y if d == 0 else reverse_padded(y, lengths))
            finals.append(final)
        x = outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=-1)  # (L, N, D*P)
        if between[k] is not None:
            x = x * between[k]
    return x, stack_finals(finals)


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
