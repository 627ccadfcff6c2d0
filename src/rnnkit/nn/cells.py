"""One-step cells: ``RNNCell``, ``LSTMCell``, ``GRUCell``.

Drop-in for ``torch.nn.RNNCell / LSTMCell / GRUCell`` (same arguments, parameter names,
gate order, shapes, initialisation and ``forward(input, hx)``), plus:

* ``step(x_t, state) -> (y_t, state)`` and ``state_size``: the protocol that
  :class:`rnnkit.nn.Recurrent` runs over a sequence;
* ``layer_norm=True``: layer normalisation of the gate pre-activations (and of the LSTM
  cell state), as in the layers.

Recurrent dropout and zoneout act across a whole sequence (a mask per sequence, the
previous step's value), so they live on the layers ``RNN / LSTM / GRU``, not on cells.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError, ShapeError, problem
from rnnkit.nn import functional as F_, validation
from rnnkit.nn.functional import NO_MASKS, CellWeights


class _Cell(nn.Module):
    gates = 1
    n_states = 1

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 layer_norm: bool = False, device=None, dtype=None) -> None:
        super().__init__()
        owner = type(self).__name__
        validation.check_positive_int("input_size", input_size, owner)
        validation.check_positive_int("hidden_size", hidden_size, owner)
        self.input_size, self.hidden_size = input_size, hidden_size
        self.bias, self.layer_norm = bool(bias), bool(layer_norm)
        G, kw = self.gates * hidden_size, {"device": device, "dtype": dtype}
        self.weight_ih = nn.Parameter(torch.empty(G, input_size, **kw))
        self.weight_hh = nn.Parameter(torch.empty(G, hidden_size, **kw))
        self.bias_ih = nn.Parameter(torch.empty(G, **kw)) if bias else None
        self.bias_hh = nn.Parameter(torch.empty(G, **kw)) if bias else None
        if layer_norm:
            self.ln_ih_weight = nn.Parameter(torch.ones(G, **kw))
            self.ln_hh_weight = nn.Parameter(torch.ones(G, **kw))
            if self.n_states == 2:
                self.ln_c_weight = nn.Parameter(torch.ones(hidden_size, **kw))
                self.ln_c_bias = nn.Parameter(torch.zeros(hidden_size, **kw))
        self.reset_parameters()

    @property
    def state_size(self):
        """Size of each state tensor: ``H`` or ``(H, H)`` for the LSTM's ``(h, c)``."""
        return self.hidden_size if self.n_states == 1 else (self.hidden_size, self.hidden_size)

    def reset_parameters(self) -> None:
        """Weights and biases ~ U(-1/sqrt(H), 1/sqrt(H)) as in torch; LN gains 1, shifts 0."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for name, p in self.named_parameters():
            with torch.no_grad():
                if name.startswith("ln_"):
                    p.fill_(0.0 if name.endswith("bias") else 1.0)
                else:
                    p.uniform_(-bound, bound)

    def weights(self) -> CellWeights:
        get = self.__dict__["_parameters"].get
        return CellWeights(self.weight_ih, self.weight_hh, get("bias_ih"), get("bias_hh"), None,
                           get("ln_ih_weight"), get("ln_hh_weight"), get("ln_c_weight"),
                           get("ln_c_bias"))

    def init_state(self, batch: int, device=None, dtype=None):
        """Zeros: ``(N, H)``, or ``((N, H), (N, H))`` for the LSTM."""
        zeros = [torch.zeros(batch, self.hidden_size, device=device, dtype=dtype)
                 for _ in range(self.n_states)]
        return zeros[0] if self.n_states == 1 else tuple(zeros)

    def _recur(self, gi: Tensor, state):
        raise NotImplementedError

    def step(self, x_t: Tensor, state):
        """One step: ``x_t`` ``(N, H_in)`` -> ``(y_t (N, H), state)``."""
        w = self.weights()
        return self._recur(F_.input_gates(x_t, w), state, w, NO_MASKS)

    def forward(self, input: Tensor, hx=None):
        """torch-compatible call: returns ``h'`` (LSTM: ``(h', c')``); input ``(N, H_in)``
        or unbatched ``(H_in,)``."""
        owner = type(self).__name__
        if input.dim() not in (1, 2):
            raise ShapeError(problem(f"{owner}: input rank", expected="(N, H_in) or (H_in,)",
                                     got=tuple(input.shape)))
        validation.check_features(input, self.input_size, self.weight_ih.dtype, owner)
        unbatched = input.dim() == 1
        x = input.unsqueeze(0) if unbatched else input
        if hx is None:
            hx = self.init_state(x.shape[0], x.device, x.dtype)
        elif unbatched:
            hx = tuple(h.unsqueeze(0) for h in hx) if self.n_states == 2 else hx.unsqueeze(0)
        _, state = self.step(x, hx)
        if unbatched:
            state = tuple(s.squeeze(0) for s in state) if self.n_states == 2 else state.squeeze(0)
        return state

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        s += ", bias=False" if not self.bias else ""
        return s + (", layer_norm=True" if self.layer_norm else "")


class RNNCell(_Cell):
    r"""Elman cell: :math:`h' = \tanh(W_{ih} x + b_{ih} + W_{hh} h + b_{hh})`.

    ``nonlinearity='relu'`` uses ReLU instead of tanh. With ``layer_norm``:
    :math:`h' = act(LN_{ih}(W_{ih} x) + b_{ih} + LN_{hh}(W_{hh} h) + b_{hh})`.

    Shapes: input ``(N, H_in)``, ``h`` ``(N, H)``; ``weight_ih`` ``(H, H_in)``,
    ``weight_hh`` ``(H, H)``, biases ``(H,)``; all initialised ~ U(-1/sqrt(H), 1/sqrt(H)).
    """

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", layer_norm: bool = False, device=None, dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ConfigError(problem("RNNCell: nonlinearity", expected="'tanh' or 'relu'",
                                      got=repr(nonlinearity)))
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, layer_norm, device, dtype)

    def _recur(self, gi, state, w, m):
        return F_.rnn_recur(gi, state, w, m, self.nonlinearity)


class LSTMCell(_Cell):
    r"""Long short-term memory cell (Hochreiter & Schmidhuber 1997), torch's formulation:

    .. math::
        i &= \sigma(W_{ii} x + b_{ii} + W_{hi} h + b_{hi}) \\
        f &= \sigma(W_{if} x + b_{if} + W_{hf} h + b_{hf}) \\
        g &= \tanh(W_{ig} x + b_{ig} + W_{hg} h + b_{hg}) \\
        o &= \sigma(W_{io} x + b_{io} + W_{ho} h + b_{ho}) \\
        c' &= f \odot c + i \odot g \\
        h' &= o \odot \tanh(c')

    ``i`` input gate, ``f`` forget gate, ``g`` candidate cell, ``o`` output gate, ``c`` cell
    state, ``h`` hidden state, ``σ`` the logistic sigmoid. With ``layer_norm`` the input and
    recurrent pre-activations are each layer-normalised (gain only) before the biases, and
    ``h' = o ⊙ tanh(LN_c(c'))`` (gain and shift).

    Shapes: input ``(N, H_in)``, ``h``, ``c`` ``(N, H)``. ``weight_ih`` ``(4H, H_in)`` and
    ``weight_hh`` ``(4H, H)`` stack the gates in the order **i, f, g, o**; biases ``(4H,)``.
    All weights and biases ~ U(-1/sqrt(H), 1/sqrt(H)).
    """

    gates, n_states = 4, 2

    def _recur(self, gi, state, w, m):
        return F_.lstm_recur(gi, state, w, m)


class GRUCell(_Cell):
    r"""Gated recurrent unit (Cho et al. 2014), torch's formulation:

    .. math::
        r &= \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}) \\
        z &= \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}) \\
        n &= \tanh(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn})) \\
        h' &= (1 - z) \odot n + z \odot h

    ``r`` reset gate, ``z`` update gate, ``n`` candidate state. With ``layer_norm`` the input
    and recurrent pre-activations are each layer-normalised (gain only) before the biases.

    Shapes: input ``(N, H_in)``, ``h`` ``(N, H)``. ``weight_ih`` ``(3H, H_in)`` and
    ``weight_hh`` ``(3H, H)`` stack the gates in the order **r, z, n**; biases ``(3H,)``.
    All weights and biases ~ U(-1/sqrt(H), 1/sqrt(H)).
    """

    gates = 3

    def _recur(self, gi, state, w, m):
        return F_.gru_recur(gi, state, w, m)
