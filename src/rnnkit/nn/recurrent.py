"""``Recurrent(cell)``: the loop that runs any one-step cell over a sequence.

A cell does one step and declares its state; the loop owns time, direction, padding and
the carried state (as Keras separates ``RNN`` from its cells).

The cell protocol
-----------------
* ``step(x_t, state) -> (y_t, state)`` with ``x_t`` ``(N, H_in)``; ``state`` a tensor or a
  tuple of tensors, each ``(N, size)``;
* ``state_size``: an int, or a tuple of ints for a tuple state;
* optionally ``init_state(batch, device, dtype)``; by default the state starts at zeros.

A new cell in about twenty lines — the minimal gated unit (Zhou et al. 2016):

>>> import torch
>>> from torch import nn
>>> from rnnkit.nn import Recurrent
>>> class MGUCell(nn.Module):
...     '''f = σ(W_f [x, h] + b_f);  h~ = tanh(W_h [x, f ⊙ h] + b_h);  h' = (1 - f) ⊙ h + f ⊙ h~'''
...     def __init__(self, input_size, hidden_size):
...         super().__init__()
...         self.state_size = hidden_size
...         self.W_f = nn.Linear(input_size + hidden_size, hidden_size)
...         self.W_h = nn.Linear(input_size + hidden_size, hidden_size)
...
...     def step(self, x_t, h_prev):
...         f = torch.sigmoid(self.W_f(torch.cat([x_t, h_prev], dim=-1)))  # (N, H)
...         h_tilde = torch.tanh(self.W_h(torch.cat([x_t, f * h_prev], dim=-1)))
...         h = (1 - f) * h_prev + f * h_tilde
...         return h, h
>>> layer = Recurrent(MGUCell(3, 8), batch_first=True)
>>> y, h_n = layer(torch.randn(4, 10, 3), lengths=[10, 7, 3, 1])
>>> tuple(y.shape), tuple(h_n.shape)
((4, 10, 8), (4, 8))
>>> bool(torch.equal(h_n[3], y[3, 0]))   # each final state is taken at its own last step
True
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from rnnkit.errors import ConfigError, ShapeError, problem
from rnnkit.nn import sequences, validation
from rnnkit.nn.stepping import time_loop


class Recurrent(nn.Module):
    """Run ``cell`` over a sequence; see the module docstring for the cell protocol.

    Args:
        cell: an object with ``step(x_t, state)`` and ``state_size``.
        batch_first: input and output are ``(N, L, ·)`` instead of ``(L, N, ·)``.
        reverse: run from each sequence's last real step to its first.

    ``forward(input, state=None, lengths=None) -> (outputs, final_state)``: input
    ``(L, N, H_in)``, a PackedSequence, or unbatched ``(L, H_in)``; outputs ``(L, N, F)``
    in the same format, zero at padded steps; ``final_state`` taken at each sequence's own
    last step.
    """

    def __init__(self, cell: nn.Module, batch_first: bool = False, reverse: bool = False) -> None:
        super().__init__()
        if not callable(getattr(cell, "step", None)) or not hasattr(cell, "state_size"):
            raise ConfigError(problem("Recurrent: cell", expected="an object with step(x_t, state) "
                                      "and state_size", got=type(cell).__name__,
                                      fix="see the recipe in help(rnnkit.nn.Recurrent)"))
        self.cell, self.batch_first, self.reverse = cell, bool(batch_first), bool(reverse)

    def init_state(self, batch: int, device, dtype):
        """The cell's ``init_state`` if it has one, else zeros of ``state_size``."""
        if hasattr(self.cell, "init_state"):
            return self.cell.init_state(batch, device, dtype)
        size = self.cell.state_size
        if isinstance(size, int):
            return torch.zeros(batch, size, device=device, dtype=dtype)
        return tuple(torch.zeros(batch, s, device=device, dtype=dtype) for s in size)

    def forward(self, input: Tensor | PackedSequence, state=None, lengths=None):
        batch = sequences.prepare(input, lengths, self.batch_first, "Recurrent")
        x, lens = batch.x, batch.lengths  # (L, N, H_in)
        validation.check_finite(x, "input", "Recurrent")
        if state is None:
            state = self.init_state(x.shape[1], x.device, x.dtype)
        elif batch.unbatched:
            state = _map(lambda s: s.unsqueeze(0), state)
        self._check_state(state, x.shape[1])
        xs = sequences.reverse_padded(x, lens) if self.reverse else x
        valid = sequences.valid_steps(lens, x.shape[0], x.device)
        y, final = time_loop(lambda t, s: self.cell.step(xs[t], s), x.shape[0], state, valid)
        if self.reverse:
            y = sequences.reverse_padded(y, lens)
        if batch.unbatched:
            final = _map(lambda s: s.squeeze(0), final)
        return sequences.finish(y, batch), final

    def step(self, x_t: Tensor, state=None):
        """One step with the state carried: ``(y_t, state)``."""
        if state is None:
            state = self.init_state(x_t.shape[0], x_t.device, x_t.dtype)
        return self.cell.step(x_t, state)

    def _check_state(self, state, batch: int) -> None:
        parts = (state,) if isinstance(state, Tensor) else tuple(state)
        for i, s in enumerate(parts):
            if not isinstance(s, Tensor) or s.dim() != 2 or s.shape[0] != batch:
                raise ShapeError(problem(f"Recurrent: state[{i}]", expected=f"a Tensor (N={batch}, size)",
                                         got=getattr(s, "shape", type(s).__name__)))


def _map(fn, state):
    return fn(state) if isinstance(state, Tensor) else tuple(fn(s) for s in state)
