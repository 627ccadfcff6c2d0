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
