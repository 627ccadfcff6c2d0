"""Exportable forms of the rnnkit layers at inference (eval mode).

ONNX has no layer norm or zoneout inside its ``LSTM / GRU / RNN`` operators, and a Python
loop over time traces to a fixed length. So a layer is exported in one of two forms:

* **native**: with no extra that changes the recurrence (no ``layer_norm``, no ``zoneout``,
  no ``proj_size``, no ``lengths``) the layer is copied into the equivalent ``torch.nn``
  module (same state dict) and torch's exporter writes ONNX's own ``LSTM / GRU / RNN``
  operator. ``recurrent_dropout`` is the identity in eval mode, so it exports natively.
* **loop**: otherwise :class:`ScriptedLayer`, the same math written for TorchScript, whose
  ``for t in range(L)`` becomes an ONNX ``Loop`` with a dynamic trip count. It covers
  layer norm, zoneout (its inference form ``h = p * h_prev + (1 - p) * h~``), projections,
  both directions and padded batches with ``lengths``.

:class:`ExportableLayer` wraps either form behind the call signature of
:class:`rnnkit.nn.RecurrentLayer` (``forward(input, hx=None, lengths=None)``), so a task
network runs unchanged with its layers swapped (:func:`swap_layers`).
:class:`StepLayer` is one time step with the state in and out (no loop, so always
expressible), on the same scripted cell math; :class:`CarriedStep` puts it behind the
layer's interfaces so a network's step graph is the network's own code.

Shapes: N batch, L length, D directions, H_in input size, H hidden size, P output size
(``proj_size`` or H), G gates (RNN 1, GRU 3, LSTM 4).
"""

from __future__ import annotations

import copy
from typing import List, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from rnnkit.nn import RecurrentLayer
from rnnkit.nn.functional import LN_EPS

TORCH_CLASSES = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}


def native_ok(layer: RecurrentLayer) -> bool:
    """True when ONNX's own recurrent operator computes the layer at inference."""
    return not (layer.layer_norm or layer.zoneout > 0 or layer.proj_size > 0)


def to_torch(layer: RecurrentLayer) -> nn.Module:
    """The equivalent ``torch.nn`` module (no layer norm, zoneout or projection)."""
    kw = dict(num_layers=layer.num_layers, bias=layer.bias, batch_first=layer.batch_first,
              dropout=layer.dropout, bidirectional=layer.bidirectional)
    if layer.mode == "RNN":
        kw["nonlinearity"] = layer.nonlinearity
    module = TORCH_CLASSES[layer.mode](layer.input_size, layer.hidden_size, **kw)
    module.load_state_dict(layer.state_dict())
    return module.to(layer.weight_ih_l0.dtype).eval()


class ScriptedDirection(nn.Module):
    """One layer and direction of an rnnkit layer at inference, written for TorchScript.

    Same math as :mod:`rnnkit.nn.functional` with the regularisers at inference: recurrent
    dropout is the identity and zoneout is the constant mix ``h = h~ + p (h_prev - h~)``.
    """

    __constants__ = ["mode", "relu", "use_ln", "use_proj", "zoneout", "eps", "g_size", "h_size"]

    def __init__(self, layer: RecurrentLayer, k: int, d: int) -> None:
        super().__init__()
        w = layer.weights(k, d)
        G, H = w.w_ih.shape[0], layer.hidden_size
        self.mode, self.relu = layer.mode, layer.nonlinearity == "relu"
        self.use_ln, self.use_proj = w.ln_ih is not None, w.w_hr is not None
        self.zoneout, self.eps = float(layer.zoneout), LN_EPS
        self.g_size, self.h_size = G, H  # constants: ONNX needs a static normalized shape
        ones, zeros = w.w_ih.new_ones(G), w.w_ih.new_zeros(G)
        h_ones, h_zeros = w.w_ih.new_ones(H), w.w_ih.new_zeros(H)
        pick = lambda t, default: (default if t is None else t).detach().clone()  # noqa: E731
        self.register_buffer("w_ih", pick(w.w_ih, None))  # (G*H, H_in)
        self.register_buffer("w_hh", pick(w.w_hh, None))  # (G*H, P)
        self.register_buffer("b_ih", pick(w.b_ih, zeros))
        self.register_buffer("b_hh", pick(w.b_hh, zeros))
        self.register_buffer("w_hr", pick(w.w_hr, w.w_ih.new_zeros(1, 1)))  # (P, H)
        self.register_buffer("ln_ih", pick(w.ln_ih, ones))
        self.register_buffer("ln_hh", pick(w.ln_hh, ones))
        self.register_buffer("ln_c_w", pick(w.ln_c_w, h_ones))
        self.register_buffer("ln_c_b", pick(w.ln_c_b, h_zeros))

    def _ln_gates(self, x: Tensor, weight: Tensor) -> Tensor:
        return F.layer_norm(x, [self.g_size], weight, None, self.eps)

    def _zone(self, new: Tensor, prev: Tensor) -> Tensor:
        if self.zoneout > 0.0:
            return new + self.zoneout * (prev - new)
        return new

    def input_gates(self, x: Tensor) -> Tensor:
        """``LN_ih(x W_ih^T) + b_ih``: (..., H_in) -> (..., G*H)."""
        gi = torch.matmul(x, self.w_ih.t())
        if self.use_ln:
            gi = self._ln_gates(gi, self.ln_ih)
        return gi + self.b_ih

    def step(self, gi: Tensor, h: Tensor, c: Tensor) -> Tuple[Tensor, Tensor]:
        """One step on input gates ``gi`` (N, G*H) and state h (N, P), c (N, H)."""
        gh = torch.matmul(h, self.w_hh.t())  # (N, G*H)
        if self.use_ln:
            gh = self._ln_gates(gh, self.ln_hh)
        gh = gh + self.b_hh
        if self.mode == "LSTM":
            i, f, g, o = (gi + gh).chunk(4, dim=-1)  # 4 x (N, H)
            c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            c_out = c_new
            if self.use_ln:
                c_out = F.layer_norm(c_new, [self.h_size], self.ln_c_w, self.ln_c_b, self.eps)
            h_new = torch.sigmoid(o) * torch.tanh(c_out)
            if self.use_proj:
                h_new = torch.matmul(h_new, self.w_hr.t())  # (N, P)
            return self._zone(h_new, h), self._zone(c_new, c)
        if self.mode == "GRU":
            i_r, i_z, i_n = gi.chunk(3, dim=-1)
            h_r, h_z, h_n = gh.chunk(3, dim=-1)
            r = torch.sigmoid(i_r + h_r)
            z = torch.sigmoid(i_z + h_z)
            n = torch.tanh(i_n + r * h_n)
            return self._zone(n + z * (h - n), h), c
        pre = gi + gh
        h_new = torch.relu(pre) if self.relu else torch.tanh(pre)
        return self._zone(h_new, h), c

    def forward(self, x: Tensor, h: Tensor, c: Tensor, valid: Tensor
                ) -> Tuple[Tensor, Tensor, Tensor]:
        """x (L, N, H_in), valid (L, N, 1) bool -> (y (L, N, P), h_n, c_n)."""
        gi = self.input_gates(x)  # (L, N, G*H): all steps in one product
        ys: List[Tensor] = []
        for t in range(x.size(0)):
            h_new, c_new = self.step(gi[t], h, c)
            v = valid[t]  # (N, 1): padded steps keep the state and output zeros
            h = torch.where(v, h_new, h)
            c = torch.where(v, c_new, c)
            ys.append(torch.where(v, h_new, torch.zeros_like(h_new)))
        return torch.stack(ys), h, c


def reverse_padded(x: Tensor, lengths: Tensor) -> Tensor:
    """Reverse each sequence of ``x`` (L, N, F) within its own length (scriptable)."""
    t = torch.arange(x.size(0), device=x.device).unsqueeze(1)  # (L, 1)
    lens = lengths.unsqueeze(0)  # (1, N)
    index = torch.where(t < lens, lens - 1 - t, t)  # (L, N)
    return x.gather(0, index.unsqueeze(-1).expand(x.size(0), x.size(1), x.size(2)))


class ScriptedLayer(nn.Module):
    """A whole layer (stacking and directions) on time-major input, for TorchScript."""

    __constants__ = ["num_directions"]

    def __init__(self, layer: RecurrentLayer) -> None:
        super().__init__()
        self.num_directions = layer.num_directions
        self.cells = nn.ModuleList([ScriptedDirection(layer, k, d) for k in range(layer.num_layers)
                                    for d in range(layer.num_directions)])

    def forward(self, x: Tensor, h0: Tensor, c0: Tensor, lengths: Tensor
                ) -> Tuple[Tensor, Tensor, Tensor]:
        """x (L, N, H_in), h0 (layers*D, N, P), c0 (layers*D, N, H), lengths (N,) int64."""
        t = torch.arange(x.size(0), device=x.device).unsqueeze(1)  # (L, 1)
        valid = (t < lengths.unsqueeze(0)).unsqueeze(-1)  # (L, N, 1)
        hs: List[Tensor] = []
        cs: List[Tensor] = []
        outputs: List[Tensor] = []
        for i, cell in enumerate(self.cells):
            d = i % self.num_directions
            xs = x if d == 0 else reverse_padded(x, lengths)
            y, h, c = cell(xs, h0[i], c0[i], valid)
            outputs.append(y if d == 0 else reverse_padded(y, lengths))
            hs.append(h)
            cs.append(c)
            if d == self.num_directions - 1:
                x = torch.cat(outputs, dim=-1)  # (L, N, D*P)
                outputs = []
        return x, torch.stack(hs), torch.stack(cs)


class ExportableLayer(nn.Module):
    """An rnnkit layer's inference math behind its own call signature, ready for tracing.

    ``forward(input, hx=None, lengths=None)`` returns what the layer returns. Without
    ``lengths`` a layer that :func:`native_ok` accepts runs as the ``torch.nn`` module
    (ONNX ``LSTM / GRU / RNN``); anything else runs :class:`ScriptedLayer` (ONNX ``Loop``).
    """

    def __init__(self, layer: RecurrentLayer) -> None:
        super().__init__()
        self.mode, self.batch_first = layer.mode, layer.batch_first
        self.num_layers, self.num_directions = layer.num_layers, layer.num_directions
        self.hidden_size, self.real_hidden_size = layer.hidden_size, layer.real_hidden_size
        self.native = to_torch(layer) if native_ok(layer) else None
        self.scripted = torch.jit.script(ScriptedLayer(copy.deepcopy(layer).eval()))

    @property
    def form(self) -> str:
        """``"native"`` (ONNX recurrent operator) or ``"loop"`` (ONNX Loop)."""
        return "native" if self.native is not None else "loop"

    def _zeros(self, x: Tensor, size: int) -> Tensor:
        n = x.shape[0] if self.batch_first else x.shape[1]
        return x.new_zeros(self.num_layers * self.num_directions, n, size)

    def forward(self, input: Tensor, hx=None, lengths: Tensor | None = None):
        lstm = self.mode == "LSTM"
        if hx is None:
            h0, c0 = self._zeros(input, self.real_hidden_size), self._zeros(input, self.hidden_size)
        else:
            h0, c0 = (hx[0], hx[1]) if lstm else (hx, self._zeros(input, self.hidden_size))
        if self.native is not None and lengths is None:
            y, state = self.native(input, (h0, c0) if lstm else h0)
            return y, state
        x = input.transpose(0, 1) if self.batch_first else input  # (L, N, H_in)
        if lengths is None:  # every sequence full length; dynamic in the graph
            lens = torch.ones_like(x[0, :, 0], dtype=torch.int64) * x.shape[0]  # (N,)
        else:
            lens = torch.as_tensor(lengths).to(torch.int64)
        y, h, c = self.scripted(x, h0, c0, lens)
        y = y.transpose(0, 1) if self.batch_first else y
        return y, ((h, c) if lstm else h)


class ScriptedStep(nn.Module):
    """One step of a unidirectional layer through all its stacked layers, for TorchScript."""

    def __init__(self, layer: RecurrentLayer) -> None:
        super().__init__()
        self.cells = nn.ModuleList([ScriptedDirection(layer, k, 0) for k in range(layer.num_layers)])

    def forward(self, x: Tensor, h: Tensor, c: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """x (N, H_in), h (layers, N, P), c (layers, N, H) -> (y (N, P), h, c)."""
        hs: List[Tensor] = []
        cs: List[Tensor] = []
        for k, cell in enumerate(self.cells):
            h_k, c_k = cell.step(cell.input_gates(x), h[k], c[k])
            hs.append(h_k)
            cs.append(c_k)
            x = h_k
        return x, torch.stack(hs), torch.stack(cs)


class StepLayer(nn.Module):
    """One inference step of a unidirectional layer with explicit state.

    ``forward(x_t (N, H_in), h (layers, N, P)[, c (layers, N, H)]) -> (y_t (N, P), h[, c])``
    (``c`` for the LSTM only), with the inference form of the extras (layer norm as is,
    zoneout ``h = h~ + p (h_prev - h~)``, no dropout).
    """

    def __init__(self, layer: RecurrentLayer) -> None:
        super().__init__()
        self.hidden_size = layer.hidden_size
        self.scripted = torch.jit.script(ScriptedStep(copy.deepcopy(layer).cpu().eval()))

    def forward(self, x_t: Tensor, h: Tensor, c: Tensor | None = None):
        if c is not None:
            return self.scripted(x_t, h, c)
        dummy = h.new_zeros(h.shape[0], h.shape[1], self.hidden_size)  # RNN/GRU carry no c
        y, h_next, _ = self.scripted(x_t, h, dummy)
        return y, h_next


class CarriedStep(nn.Module):
    """A unidirectional layer's :class:`StepLayer` behind the layer's own interfaces, so a
    network's own methods run one step of its step graph with the state made explicit:

    * ``step(x_t, state) -> (y_t, state)`` as :meth:`rnnkit.nn.RecurrentLayer.step`, for a
      network that streams with a ``step`` method of its own;
    * ``forward(input, hx=None, lengths=None)`` on a one-step input (``(N, 1, H_in)``
      batch first, else ``(1, N, H_in)``), for a network whose forward reads a whole
      sequence from a zero state: the step starts from :attr:`carried` (set it before the
      call) and leaves the new state there. ``lengths`` is ignored (one real step).

    ``state`` is in the layer's ``hx`` format: ``h`` ``(layers, N, P)`` or ``(h, c)``.
    """

    def __init__(self, layer: RecurrentLayer) -> None:
        super().__init__()
        self.lstm, self.batch_first = layer.mode == "LSTM", layer.batch_first
        self.num_layers, self.num_directions = layer.num_layers, 1
        self.layer = StepLayer(layer)
        self.carried = None

    def step(self, x_t: Tensor, state):
        y, *new = self.layer(x_t, *(state if isinstance(state, (tuple, list)) else (state,)))
        return y, (tuple(new) if self.lstm else new[0])

    def forward(self, input: Tensor, hx=None, lengths: Tensor | None = None):
        x_t = input[:, 0] if self.batch_first else input[0]  # (N, H_in)
        y, self.carried = self.step(x_t, self.carried if hx is None else hx)
        return (y[:, None] if self.batch_first else y[None]), self.carried


def swap_layers(net: nn.Module, form=ExportableLayer) -> tuple[nn.Module, list[str]]:
    """A copy of ``net`` in eval mode with every rnnkit layer replaced by ``form(layer)``
    (:class:`ExportableLayer` for a sequence graph, :class:`CarriedStep` for a step graph);
    returns it and the forms used (``"encoder: loop"``, …)."""
    net = copy.deepcopy(net).cpu().eval()
    forms = []
    for name, module in list(net.named_modules()):
        if isinstance(module, RecurrentLayer):
            parent, _, attr = name.rpartition(".")
            owner = net.get_submodule(parent) if parent else net
            swapped = form(module)
            setattr(owner, attr, swapped)
            forms.append(f"{name or 'layer'}: {getattr(swapped, 'form', 'step')}")
    return net, forms
