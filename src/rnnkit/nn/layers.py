"""``RNN``, ``LSTM`` and ``GRU`` layers: drop-in for ``torch.nn`` plus the extras.

Same constructor arguments, parameter names (``weight_ih_l0``, ``weight_hh_l0_reverse``, …),
gate order, shapes, initialisation and return values as ``torch.nn.RNN / LSTM / GRU``, so a
``torch.nn`` state dict loads as is and ours loads into ``torch.nn`` (without extras).

Extras that torch lacks, combinable with each other, stacking, both directions and
variable lengths:

* ``layer_norm``: LN (gain, no shift) on the input and recurrent gate pre-activations,
  and for the LSTM LN (gain and shift) on the cell state before its ``tanh``
  (Ba et al. 2016). Adds parameters ``ln_ih_weight_l{k}``, ``ln_hh_weight_l{k}`` and
  ``ln_c_weight_l{k}`` / ``ln_c_bias_l{k}`` (with ``_reverse`` for the backward direction).
* ``recurrent_dropout``: variational dropout of ``h_{t-1}`` feeding ``W_hh``, one mask per
  sequence, layer and direction (Gal & Ghahramani 2016).
* ``zoneout``: each unit of ``h`` (and ``c``) keeps its previous value with probability
  ``p`` in training; the expectation at inference (Krueger et al. 2016).
* ``weight_drop``: DropConnect on the hidden-to-hidden weights (Wan et al. 2013), as in
  AWD-LSTM (Merity et al. 2018): in training each forward call uses
  ``W_hh ⊙ M / (1 - p)`` with ``M ~ Bernoulli(1 - p)`` of shape ``W_hh``'s ``(G·H, P)``,
  one mask per call, layer and direction, shared by the batch and every step; at
  inference ``W_hh`` itself (the expectation), so eval runs torch's fused kernel.

Extra inputs: ``forward(input, hx=None, lengths=None)`` takes ``lengths`` ``(N,)`` with a
padded tensor; padding never changes a real step, outputs are zero at padded steps and
the final state is taken at each sequence's own last step (as with a PackedSequence).

Code paths (``impl``): ``"auto"`` (default) runs torch's fused kernel (oneDNN on CPU,
cuDNN on GPU) when no extra is on and rnnkit's fast path otherwise; ``"torch"`` demands the
fused kernel and raises when an extra rules it out; ``"rnnkit"`` forces the fast path;
``"reference"`` runs the plain loop that defines the math (:mod:`rnnkit.nn.reference`).

Shapes: N batch, L length, D = 2 if bidirectional else 1, H_in input_size, H hidden_size,
P = proj_size if > 0 else H. Input ``(L, N, H_in)`` (``(N, L, H_in)`` with batch_first) or
``(L, H_in)`` or a PackedSequence; output ``(L, N, D*P)``; ``h_n`` ``(num_layers*D, N, P)``;
``c_n`` ``(num_layers*D, N, H)``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from rnnkit.errors import ConfigError, ShapeError, problem, unknown_name
from rnnkit.nn import cpu, fast, fused, gpu, reference, sequences, validation
from rnnkit.nn.functional import CellWeights

IMPLS = ("auto", "torch", "rnnkit", "reference")
GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}


class RecurrentLayer(nn.Module):
    """Shared machinery of :class:`RNN`, :class:`LSTM` and :class:`GRU`."""

    mode = "RNN"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, nonlinearity: str = "tanh", *, layer_norm: bool = False,
                 recurrent_dropout: float = 0.0, zoneout: float = 0.0, weight_drop: float = 0.0,
                 impl: str = "auto", device=None, dtype=None) -> None:
        super().__init__()
        owner = type(self).__name__
        validation.check_layer_args(owner, input_size, hidden_size, num_layers, dropout,
                                    proj_size, recurrent_dropout, zoneout, nonlinearity)
        validation.check_probability("weight_drop", weight_drop, owner, allow_one=False)
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.bidirectional = bool(bias), bool(batch_first), bool(bidirectional)
        self.dropout, self.proj_size, self.nonlinearity = float(dropout), proj_size, nonlinearity
        self.layer_norm = bool(layer_norm)
        self.recurrent_dropout, self.zoneout = float(recurrent_dropout), float(zoneout)
        self.weight_drop = float(weight_drop)
        self._dropped_hh: dict[tuple[int, int], Tensor] | None = None  # this call's W_hh ⊙ M / (1-p)
        self.impl = impl
        self.validate_inputs = True  # set False to skip the NaN scan in hot loops
        self._make_parameters(device, dtype)
        self.reset_parameters()

    # ---- parameters ---------------------------------------------------------------------
    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def real_hidden_size(self) -> int:
        """P: the size of ``h`` (``proj_size`` when projecting, else ``hidden_size``)."""
        return self.proj_size if self.proj_size > 0 else self.hidden_size

    @property
    def gate_count(self) -> int:
        return GATES[self.mode]

    @property
    def has_extras(self) -> bool:
        """Whether an extra acts on this call (``weight_drop`` acts in training only)."""
        return (self.layer_norm or self.recurrent_dropout > 0 or self.zoneout > 0
                or (self.weight_drop > 0 and self.training))

    def _suffix(self, k: int, d: int) -> str:
        return f"_l{k}" + ("_reverse" if d == 1 else "")

    def _make_parameters(self, device, dtype) -> None:
        G, H, P = self.gate_count * self.hidden_size, self.hidden_size, self.real_hidden_size
        kw = {"device": device, "dtype": dtype}
        for k in range(self.num_layers):
            layer_in = self.input_size if k == 0 else P * self.num_directions
            for d in range(self.num_directions):
                s = self._suffix(k, d)
                self.register_parameter("weight_ih" + s, nn.Parameter(torch.empty(G, layer_in, **kw)))
                self.register_parameter("weight_hh" + s, nn.Parameter(torch.empty(G, P, **kw)))
                if self.bias:
                    self.register_parameter("bias_ih" + s, nn.Parameter(torch.empty(G, **kw)))
                    self.register_parameter("bias_hh" + s, nn.Parameter(torch.empty(G, **kw)))
                if self.proj_size > 0:
                    self.register_parameter("weight_hr" + s, nn.Parameter(torch.empty(P, H, **kw)))
                if self.layer_norm:
                    self._make_layer_norm(s, G, H, kw)

    def _make_layer_norm(self, s: str, G: int, H: int, kw: dict) -> None:
        self.register_parameter("ln_ih_weight" + s, nn.Parameter(torch.empty(G, **kw)))
        self.register_parameter("ln_hh_weight" + s, nn.Parameter(torch.empty(G, **kw)))
        if self.mode == "LSTM":
            self.register_parameter("ln_c_weight" + s, nn.Parameter(torch.empty(H, **kw)))
            self.register_parameter("ln_c_bias" + s, nn.Parameter(torch.empty(H, **kw)))

    def reset_parameters(self) -> None:
        """torch's initialisation: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H));
        layer-norm gains 1 and shifts 0."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for name, p in self.named_parameters():
            with torch.no_grad():
                if name.startswith("ln_"):
                    p.fill_(0.0 if "_bias" in name else 1.0)
                else:
                    p.uniform_(-bound, bound)

    def weights(self, k: int, d: int) -> CellWeights:
        """The parameters of layer ``k`` and direction ``d`` as a :class:`CellWeights`."""
        s, get = self._suffix(k, d), self.__dict__["_parameters"].get
        w_hh = self._dropped_hh[k, d] if self._dropped_hh is not None else get("weight_hh" + s)
        return CellWeights(get("weight_ih" + s), w_hh, get("bias_ih" + s),
                           get("bias_hh" + s), get("weight_hr" + s), get("ln_ih_weight" + s),
                           get("ln_hh_weight" + s), get("ln_c_weight" + s), get("ln_c_bias" + s))

    def flat_weights(self) -> list[Tensor]:
        """Parameters in torch's order for its fused kernel (no layer-norm gains)."""
        out = []
        for k in range(self.num_layers):
            for d in range(self.num_directions):
                w = self.weights(k, d)
                out += [w.w_ih, w.w_hh] + ([w.b_ih, w.b_hh] if self.bias else [])
                out += [w.w_hr] if w.w_hr is not None else []
        return out

    def flatten_parameters(self) -> None:
        """Accepted for drop-in compatibility with ``torch.nn``; a no-op (the fused kernel
        takes the parameters as they are)."""

    @property
    def all_weights(self) -> list[list[Tensor]]:
        """Per layer and direction, the parameters in torch's order (as ``torch.nn``)."""
        per = len(self.flat_weights()) // (self.num_layers * self.num_directions)
        flat = self.flat_weights()
        return [flat[i: i + per] for i in range(0, len(flat), per)]

    # ---- forward --------------------------------------------------------------------------
    def select_impl(self) -> str:
        """Which path a forward call takes: ``"torch"``, ``"rnnkit"`` or ``"reference"``."""
        if self.impl not in IMPLS:
            raise ConfigError(unknown_name(f"{type(self).__name__} impl", self.impl, IMPLS))
        if self.impl == "torch" and self.has_extras:
            raise ConfigError(f"{type(self).__name__}: impl='torch' demands torch's fused kernel, "
                              f"which cannot run {self._extras_text()}; use impl='auto' to fall "
                              "back to rnnkit's fast path, or turn the extras off")
        if self.impl == "auto":
            return "rnnkit" if self.has_extras else "torch"
        return self.impl

    def _extras_text(self) -> str:
        on = [f"layer_norm={self.layer_norm}"] if self.layer_norm else []
        on += [f"recurrent_dropout={self.recurrent_dropout}"] if self.recurrent_dropout else []
        on += [f"zoneout={self.zoneout}"] if self.zoneout else []
        on += [f"weight_drop={self.weight_drop}"] if self.weight_drop else []
        return ", ".join(on)

    def forward(self, input: Tensor | PackedSequence, hx=None, lengths=None):
        """Run the layer; returns ``(output, h_n)`` (LSTM: ``(output, (h_n, c_n))``)."""
        owner, impl = type(self).__name__, self.select_impl()
        batch = sequences.prepare(input, lengths, self.batch_first, owner)
        validation.check_features(batch.x, self.input_size, self.weight_ih_l0.dtype, owner)
        state = self._initial_state(hx, batch)
        if self.validate_inputs:
            validation.check_finite(batch.x, "input", owner)
        if impl == "torch" and self.impl == "auto" and cpu.beats_torch(self, batch):
            impl = "rnnkit"  # CPU GRU: rnnkit's kernel outruns torch's (no oneDNN GRU)
        if impl == "torch":
            out, final = fused.run(self, input, batch, state)
        else:
            self._dropped_hh = self._drop_connect() if self.training and self.weight_drop > 0 else None
            try:
                out, final = self._run_rnnkit(impl, batch, state)
            finally:
                self._dropped_hh = None
            out = sequences.finish(out, batch)
        return out, self._format_state(final, batch.unbatched)

    def _drop_connect(self) -> dict[tuple[int, int], Tensor]:
        """``W_hh ⊙ M / (1 - p)`` per layer and direction, masks drawn before the paths'
        own (:func:`rnnkit.nn.masks.draw_masks`), so every path sees the same ones."""
        keep, out = 1.0 - self.weight_drop, {}
        for k in range(self.num_layers):
            for d in range(self.num_directions):
                w = self.__dict__["_parameters"]["weight_hh" + self._suffix(k, d)]
                out[k, d] = w * ((torch.rand(w.shape, device=w.device) < keep).to(w.dtype) / keep)
        return out

    def _run_rnnkit(self, impl: str, batch, state):
        """rnnkit's paths: the reference loop, the GPU or CPU kernels, or the fast path."""
        if impl == "reference":
            run = reference.run
        elif gpu.supports(self, batch):  # CUDA float32 LSTM/GRU with extras, Triton present
            run = gpu.run
        elif cpu.supports(self, batch):  # CPU LSTM/GRU, no lengths/projection, kernels built
            run = cpu.run
        else:
            run = fast.run
        return run(self, batch, state)

    def state_shapes(self, batch: int) -> list[tuple[int, ...]]:
        """The shapes of the state ``hx`` for ``batch`` sequences, in the ``hx`` order:
        ``[h (num_layers*D, N, P)]``, and for the LSTM ``[h, c (num_layers*D, N, H)]``
        (``N = batch``, ``D`` directions, ``P`` the output size, ``H`` hidden_size)."""
        n = self.num_layers * self.num_directions
        shapes = [(n, batch, self.real_hidden_size)]
        return shapes + [(n, batch, self.hidden_size)] if self.mode == "LSTM" else shapes

    def _initial_state(self, hx, batch: sequences.SequenceBatch) -> tuple[Tensor, ...]:
        """Validate ``hx`` (or make zeros) as a tuple of ``(num_layers*D, N, size)`` tensors."""
        N, owner, x = batch.x.shape[1], type(self).__name__, batch.x
        shapes = self.state_shapes(N)
        if hx is None:
            return tuple(x.new_zeros(s) for s in shapes)
        parts = tuple(hx) if self.mode == "LSTM" and isinstance(hx, (tuple, list)) else (hx,)
        names = ["h_0", "c_0"][: len(shapes)]
        if len(parts) != len(shapes):
            raise ShapeError(problem(f"{owner}: hx", expected="(h_0, c_0)" if self.mode == "LSTM"
                                     else "a Tensor h_0", got=f"{len(parts)} tensors"))
        out = []
        for h, shape, name in zip(parts, shapes, names):
            if batch.unbatched and isinstance(h, Tensor) and h.dim() == 2:
                h = h.unsqueeze(1)
            validation.check_state(h, shape, name, owner)
            if self.validate_inputs:
                validation.check_finite(h, name, owner)
            out.append(h.to(x.dtype))
        return tuple(out)

    def _format_state(self, final: tuple[Tensor, ...], unbatched: bool):
        if unbatched:
            final = tuple(h.squeeze(1) for h in final)
        return final if self.mode == "LSTM" else final[0]

    # ---- streaming -------------------------------------------------------------------------
    def step(self, x_t: Tensor, state=None):
        """One time step at inference: ``x_t`` ``(N, H_in)`` -> ``(y_t (N, P), state)``.

        ``state`` is in the layer's ``hx`` format (``h`` or ``(h, c)``, each
        ``(num_layers, N, size)``) or None for zeros. Feeding a sequence step by step gives
        the outputs of the whole-sequence call in eval mode.
        """
        owner = type(self).__name__
        if self.bidirectional:
            raise ConfigError(f"{owner}.step: a bidirectional layer needs the whole sequence; "
                              "use forward() or a unidirectional layer for streaming")
        if self.training and (self.has_extras or self.dropout > 0):
            raise ConfigError(f"{owner}.step: runs at inference only; call .eval() first "
                              "(its regularisers draw masks per sequence in training)")
        if not isinstance(x_t, Tensor) or x_t.dim() not in (1, 2):
            raise ShapeError(problem(f"{owner}.step: x_t", expected="a Tensor (N, H_in) or (H_in,)",
                                     got=getattr(x_t, "shape", type(x_t).__name__)))
        return fast.step(self, x_t, state)

    def zero_state(self, batch_size: int = 1):
        """The all-zero state of ``batch_size`` sequences in the ``hx`` format:
        ``h`` ``(num_layers * D, N, P_out)``, or ``(h, c)`` with ``c`` ``(num_layers * D, N, P)``
        for LSTM. Streams stepped together keep their states stacked along ``N`` (dim 1)."""
        w = self.weight_ih_l0
        layers = self.num_layers * self.num_directions
        h = torch.zeros(layers, batch_size, self.proj_size or self.hidden_size, dtype=w.dtype, device=w.device)
        if self.mode != "LSTM":
            return h
        return h, torch.zeros(layers, batch_size, self.hidden_size, dtype=w.dtype, device=w.device)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        s += f", num_layers={self.num_layers}" if self.num_layers != 1 else ""
        s += f", proj_size={self.proj_size}" if self.proj_size else ""
        s += ", bias=False" if not self.bias else ""
        s += ", batch_first=True" if self.batch_first else ""
        s += f", dropout={self.dropout}" if self.dropout else ""
        s += ", bidirectional=True" if self.bidirectional else ""
        s += f", {self._extras_text()}" if self.has_extras else ""
        return s


class RNN(RecurrentLayer):
    """Elman RNN, drop-in for ``torch.nn.RNN``: ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``.

    ``act`` is tanh (default) or relu. See :mod:`rnnkit.nn.layers` for shapes and extras.
    """

    mode = "RNN"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False, **extras) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, nonlinearity, **extras)


class LSTM(RecurrentLayer):
    """LSTM, drop-in for ``torch.nn.LSTM`` (gate order i, f, g, o; optional ``proj_size``).

    See :class:`rnnkit.nn.LSTMCell` for the equations, :mod:`rnnkit.nn.layers` for shapes
    and extras.
    """

    mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, **extras) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, proj_size, "tanh", **extras)


class GRU(RecurrentLayer):
    """GRU, drop-in for ``torch.nn.GRU`` (gate order r, z, n).

    See :class:`rnnkit.nn.GRUCell` for the equations, :mod:`rnnkit.nn.layers` for shapes
    and extras.
    """

    mode = "GRU"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 **extras) -> None:
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, "tanh", **extras)
