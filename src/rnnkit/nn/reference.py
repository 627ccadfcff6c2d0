"""The plain reference loop: the definition of what every layer computes.

Layer by layer, direction by direction, step by step, with nothing hoisted or fused:
``y_t, state = recur(input_gates(x_t), state)`` (:mod:`rnnkit.nn.functional`). Every
faster path (torch's fused kernel, :mod:`rnnkit.nn.fast`) is tested against this loop for
outputs, final states and gradients. Select it with ``layer.impl = "reference"``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit.nn.functional import input_gates
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
        outputs = []
        for d in range(layer.num_directions):
            w, m = layer.weights(k, d), masks[k][d]
            xs = x if d == 0 else reverse_padded(x, lengths)

            def step(t, state, xs=xs, w=w, m=m):
                return recur(input_gates(xs[t], w), state, w, m.at(t))

            y, final = time_loop(step, L, initial(hx, k * layer.num_directions + d), valid)
            outputs.append(y if d == 0 else reverse_padded(y, lengths))
            finals.append(final)
        x = torch.cat(outputs, dim=-1)  # (L, N, D*P)
        if between[k] is not None:
            x = x * between[k]
    return x, stack_finals(finals)
