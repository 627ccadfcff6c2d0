"""Export adapters: what each exported graph of a network takes and returns.

An :class:`Adapter` knows, for one kind of network, the graph's input and output names,
their meaning and dynamic axes, how to make random inputs of any (batch, length), and the
torch reference a parity check compares against. Each task's adapter lives in the module
of the task's name (``forecast``, ``anomaly``, ``classify_series``, ``classify_text``,
``lm``, as in :mod:`rnnkit.serve.adapters`); this module holds the base, the registry and
the adapter of a bare rnnkit layer.

* ``sequence``: the network's own forward with its recurrent layers swapped for their
  exportable forms (:func:`rnnkit.export.layers.swap_layers`); dynamic ``batch`` and
  ``length``.
* ``step``: one time step with the recurrent state as explicit inputs (``h``, ``c``, …) and
  outputs (``h_next``, ``c_next``, …); dynamic ``batch``. It runs the network's own methods
  with its layers swapped for :class:`rnnkit.export.layers.CarriedStep`. Inputs are split
  into *streams* (a new value each step), *constants* (the same every step) and *state*
  (zeros at the start, then the previous step's ``*_next``).

An adapter never writes a network's math again: it calls the network's public methods. A
new network exports by subclassing and registering::

    @register_adapter(MyNet)
    class MyNetAdapter(Adapter):
        task = "my-task"
        seq_inputs, seq_outputs = ["x"], ["y"]
        @staticmethod
        def run(net, x): return net(x)
        ...                            # example, seq_axes; layer and step_* for streaming

Shapes: N batch, L length, C channels, P layer output size, layers = num_layers.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError, problem
from rnnkit.export.layers import CarriedStep, StepLayer, swap_layers
from rnnkit.nn import RecurrentLayer

_ADAPTERS: dict[type, type["Adapter"]] = {}


class Call(nn.Module):
    """Calls ``fn(net, *inputs)`` and returns a tuple: one traceable graph."""

    def __init__(self, net: nn.Module, fn: Callable) -> None:
        super().__init__()
        self.net, self.fn = net, fn

    def forward(self, *inputs):
        out = self.fn(self.net, *inputs)
        return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def flat_state(state) -> tuple[Tensor, ...]:
    """A layer's ``hx`` (``h`` or ``(h, c)``) as a tuple of tensors."""
    return tuple(state) if isinstance(state, (tuple, list)) else (state,)


def as_hx(parts) -> Tensor | tuple[Tensor, ...]:
    """The inverse of :func:`flat_state`: ``(h,)`` -> ``h``, ``(h, c)`` -> ``(h, c)``."""
    parts = tuple(parts)
    return parts[0] if len(parts) == 1 else parts


def no_stream(owner: str, why: str) -> ConfigError:
    """The error for a network that has no step graph."""
    return ConfigError(f"{owner}: cannot export kind='step' ({why}); export kind='sequence'")


def random_state(layer: RecurrentLayer, batch: int, gen: torch.Generator) -> list[Tensor]:
    """A random initial state of ``layer`` for ``batch`` sequences, in the ``hx`` order."""
    return [torch.randn(s, generator=gen) for s in layer.state_shapes(batch)]


class Adapter:
    """Base: subclasses fill in names, meaning, inputs and references."""

    task: str | None = None
    seq_inputs: list[str] = []
    seq_outputs: list[str] = []
    meaning: dict[str, str] = {}
    extra_length: int = 0  # steps the example inputs have beyond the requested length

    def __init__(self, net: nn.Module) -> None:
        self.net = net.cpu().float().eval()

    def use_estimator(self, estimator) -> None:
        """Take what the graph needs from the fitted estimator that owns the network."""

    # ---- sequence graph --------------------------------------------------------------------
    def sequence_module(self) -> tuple[nn.Module, list[str]]:
        swapped, forms = swap_layers(self.net)
        return Call(swapped, type(self).run), forms

    def reference(self, inputs: tuple[Tensor, ...]) -> list[Tensor]:
        with torch.no_grad():
            return list(Call(self.net, type(self).run)(*inputs))

    @staticmethod
    def run(net, *inputs):
        """The sequence graph: the network's own forward on the graph's inputs."""
        raise NotImplementedError

    def example(self, batch: int, length: int, gen: torch.Generator) -> tuple[Tensor, ...]:
        raise NotImplementedError

    def seq_axes(self) -> dict[str, dict[int, str]]:
        raise NotImplementedError

    # ---- step graph ------------------------------------------------------------------------
    def layer(self) -> RecurrentLayer:
        raise NotImplementedError

    def state_names(self) -> list[str]:
        return ["h", "c"] if self.layer().mode == "LSTM" else ["h"]

    def zero_state(self, batch: int) -> list[Tensor]:
        return [torch.zeros(s) for s in self.layer().state_shapes(batch)]

    def check_streamable(self, owner: str) -> None:
        if self.layer().bidirectional:
            raise no_stream(owner, "a bidirectional layer reads the whole sequence, so its "
                            "state cannot be carried step by step")

    def step_net(self, owner: str) -> nn.Module:
        """A copy of the network whose recurrent layers are :class:`CarriedStep`."""
        self.check_streamable(owner)
        return swap_layers(self.net, CarriedStep)[0]


class RecurrentLayerAdapter(Adapter):
    """A bare rnnkit layer: ``(x, h0[, c0]) -> (y, h_n[, c_n])``."""

    def __init__(self, net: RecurrentLayer) -> None:
        super().__init__(net)
        lstm = net.mode == "LSTM"
        self.seq_inputs = ["x", "h0"] + (["c0"] if lstm else [])
        self.seq_outputs = ["y", "h_n"] + (["c_n"] if lstm else [])
        order = "(N, L, H_in)" if net.batch_first else "(L, N, H_in)"
        self.meaning = {"x": f"input sequence {order}", "h0": "initial h (layers*D, N, P)",
                        "c0": "initial c (layers*D, N, H)", "y": "outputs, same layout as x",
                        "h_n": "final h", "c_n": "final c", "x_t": "one step's input (N, H_in)",
                        "h": "h carried in (layers, N, P)", "c": "c carried in (layers, N, H)",
                        "y_t": "one step's output (N, P)", "h_next": "h to carry",
                        "c_next": "c to carry"}

    def layer(self) -> RecurrentLayer:
        return self.net

    def sequence_module(self):
        holder = nn.Module()
        holder.layer = self.net
        swapped, forms = swap_layers(holder)
        return Call(swapped.layer, type(self).run), forms

    @staticmethod
    def run(net, x, h0, c0=None):
        y, state = net(x, h0 if c0 is None else (h0, c0))
        return (y, *flat_state(state))

    def example(self, batch, length, gen):
        n = self.net
        x = torch.randn((batch, length, n.input_size) if n.batch_first
                        else (length, batch, n.input_size), generator=gen)
        return (x, *random_state(n, batch, gen))

    def seq_axes(self):
        seq = {0: "batch", 1: "length"} if self.net.batch_first else {0: "length", 1: "batch"}
        axes = {"x": seq, "y": seq}
        axes.update({k: {1: "batch"} for k in ("h0", "c0", "h_n", "c_n")})
        return axes

    # step: streams x_t; no constants
    def step_module(self):
        self.check_streamable(type(self.net).__name__)
        return StepLayer(self.net)

    def step_io(self):
        return ["x_t"], [], ["y_t"]

    def step_example(self, batch, length, gen):
        x = torch.randn(batch, length, self.net.input_size, generator=gen)
        return {"x_t": x}, {}

    def step_reference(self, streams, consts):
        x = streams["x_t"] if self.net.batch_first else streams["x_t"].transpose(0, 1)
        with torch.no_grad():
            y, _ = self.net(x)
        return {"y_t": y if self.net.batch_first else y.transpose(0, 1)}


def register_adapter(*networks: type) -> Callable[[type[Adapter]], type[Adapter]]:
    """Class decorator: export networks of these classes with the decorated adapter."""
    def add(adapter: type[Adapter]) -> type[Adapter]:
        for network in networks:
            _ADAPTERS[network] = adapter
        return adapter
    return add


register_adapter(RecurrentLayer)(RecurrentLayerAdapter)


def adapter_for(net: nn.Module) -> Adapter:
    """The adapter of a network rnnkit knows how to export."""
    for cls, adapter in _ADAPTERS.items():
        if isinstance(net, cls):
            return adapter(net)
    raise ConfigError(problem("export: model", expected="an rnnkit estimator (Forecaster, "
                              "SequenceClassifier, AnomalyDetector, TextClassifier, "
                              "LanguageModel), its model_, or an rnnkit.nn layer (RNN, LSTM, GRU)",
                              got=type(net).__name__,
                              fix="for another nn.Module, use torch.onnx.export directly"))
