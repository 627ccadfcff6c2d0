"""Pieces shared by the reference loop and the fast path: which step, which state, one scan."""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from rnnkit.nn import functional as F_
from rnnkit.nn.sequences import tree_where


def recur_for(layer) -> Callable:
    """The recurrent half of the step for the layer's mode (see :mod:`rnnkit.nn.functional`)."""
    if layer.mode == "LSTM":
        return F_.lstm_recur
    if layer.mode == "GRU":
        return F_.gru_recur
    nonlinearity = layer.nonlinearity
    return lambda gi, h, w, m: F_.rnn_recur(gi, h, w, m, nonlinearity)


def initial(hx: tuple[Tensor, ...], index: int):
    """The state of layer-direction ``index``: ``h`` or ``(h, c)``, each ``(N, size)``."""
    parts = tuple(h[index] for h in hx)
    return parts if len(parts) == 2 else parts[0]


def stack_finals(finals: list) -> tuple[Tensor, ...]:
    """Per layer-direction final states -> ``(h_n,)`` or ``(h_n, c_n)``, ``(num_layers*D, N, size)``."""
    if isinstance(finals[0], tuple):
        return tuple(torch.stack(part) for part in zip(*finals))
    return (torch.stack(finals),)


def time_loop(step: Callable, length: int, state, valid: Tensor | None):
    """Run ``step(t, state) -> (y_t, state)`` for t < length, freezing padded steps.

    ``valid`` ``(L, N, 1)`` marks real steps (None: all real). At a padded step the state
    is carried unchanged and the output is zero, so padding never changes a real step.
    Returns ``(outputs (L, N, F), final_state)``.
    """
    outputs = []
    for t in range(length):
        y, new = step(t, state)
        if valid is None:
            state = new
        else:
            state = tree_where(valid[t], new, state)
            y = torch.where(valid[t], y, torch.zeros_like(y))
        outputs.append(y)
    return torch.stack(outputs), state


def stack_states(states: list, layer):
    """Per-stream states of ``layer.step`` (None = zeros), each with batch 1, stacked along
    the batch dimension (dim 1) so many streams step in one call."""
    zero = layer.zero_state(1)
    filled = [zero if s is None else s for s in states]
    if isinstance(zero, tuple):
        return tuple(torch.cat([s[i] for s in filled], dim=1) for i in range(len(zero)))
    return torch.cat(filled, dim=1)


def unstack_states(state, n: int) -> list:
    """The inverse of :func:`stack_states`: ``n`` states of batch 1."""
    if isinstance(state, tuple):
        return [tuple(part[:, i: i + 1] for part in state) for i in range(n)]
    return [state[:, i: i + 1] for i in range(n)]


def stack_layers(layer, batch, hx: tuple[Tensor, ...], one_direction: Callable):
    """The loop every layer path shares: layers, then directions (the backward direction
    reads and writes the sequence reversed within each length), dropout between layers.

    ``one_direction(xs (L, N, H_in), state, weights, masks) -> (y (L, N, P), final)`` runs
    one layer in one direction; masks come from :func:`rnnkit.nn.masks.draw_masks`, drawn
    here in the fixed order every path shares. Returns ``(output (L, N, D*P), finals)``.
    """
    from rnnkit.nn.masks import draw_masks
    from rnnkit.nn.sequences import reverse_padded

    x, lengths = batch.x, batch.lengths  # (L, N, H_in)
    masks, between = draw_masks(layer, x.shape[0], x.shape[1], x.device, x.dtype)
    D, finals = layer.num_directions, []
    for k in range(layer.num_layers):
        inputs = [x] if D == 1 else [x, reverse_padded(x, lengths)]
        outputs = []
        for d, xs in enumerate(inputs):
            y, final = one_direction(xs, initial(hx, k * D + d), layer.weights(k, d), masks[k][d])
            outputs.append(y if d == 0 else reverse_padded(y, lengths))
            finals.append(final)
        x = outputs[0] if D == 1 else torch.cat(outputs, dim=-1)  # (L, N, D*P)
        if between[k] is not None:
            x = x * between[k]
    return x, stack_finals(finals)
