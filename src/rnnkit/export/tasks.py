"""Per-network adapters: what each exported graph takes and returns.

An :class:`Adapter` knows, for one kind of network, the graph's input and output names,
their meaning and dynamic axes, how to make random inputs of any (batch, length), and the
torch reference a parity check compares against:

* ``sequence``: the network's own forward with its recurrent layers swapped for their
  exportable forms (:func:`rnnkit.export.layers.swap_layers`); dynamic ``batch`` and
  ``length``.
* ``step``: one time step with the recurrent state as explicit inputs (``h``, ``c``, …) and
  outputs (``h_next``, ``c_next``, …); dynamic ``batch``. Inputs are split into *streams*
  (a new value each step), *constants* (the same every step) and *state* (zeros at the
  start, then the previous step's ``*_next``).

Shapes: N batch, L length, C channels, P layer output size, layers = num_layers.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rnnkit.errors import ConfigError, problem
from rnnkit.export.layers import StepLayer, swap_layers
from rnnkit.nn import RecurrentLayer


class _Call(nn.Module):
    """Calls ``fn(net, *inputs)`` and returns a tuple: one traceable graph."""

    def __init__(self, net: nn.Module, fn) -> None:
        super().__init__()
        self.net, self.fn = net, fn

    def forward(self, *inputs):
        out = self.fn(self.net, *inputs)
        return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _flat_state(state) -> tuple[Tensor, ...]:
    return tuple(state) if isinstance(state, (tuple, list)) else (state,)


def _no_stream(owner: str, why: str) -> ConfigError:
    return ConfigError(f"{owner}: cannot export kind='step' ({why}); export kind='sequence'")


class Adapter:
    """Base: subclasses fill in names, meaning, inputs and references."""

    task: str | None = None
    seq_inputs: list[str] = []
    seq_outputs: list[str] = []
    meaning: dict[str, str] = {}

    def __init__(self, net: nn.Module) -> None:
        self.net = net.cpu().float().eval()

    # ---- sequence graph --------------------------------------------------------------------
    def sequence_module(self) -> tuple[nn.Module, list[str]]:
        swapped, forms = swap_layers(self.net)
        return _Call(swapped, type(self).export_run), forms

    def reference(self, inputs: tuple[Tensor, ...]) -> list[Tensor]:
        with torch.no_grad():
            return list(_Call(self.net, type(self).run)(*inputs))

    @staticmethod
    def run(net, *inputs):
        raise NotImplementedError

    @classmethod
    def export_run(cls, net, *inputs):
        """The forward written for export; the same as :meth:`run` unless an op needs it."""
        return cls.run(net, *inputs)

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
        return [torch.zeros(s) for s in self.layer()._state_shapes(batch)]

    def check_streamable(self, owner: str) -> None:
        if self.layer().bidirectional:
            raise _no_stream(owner, "a bidirectional layer reads the whole sequence, so its "
                             "state cannot be carried step by step")


class LayerAdapter(Adapter):
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
        return _Call(swapped.layer, type(self).run), forms

    @staticmethod
    def run(net, x, h0, c0=None):
        y, state = net(x, h0 if c0 is None else (h0, c0))
        return (y, *_flat_state(state))

    def example(self, batch, length, gen):
        n = self.net
        x = torch.randn((batch, length, n.input_size) if n.batch_first
                        else (length, batch, n.input_size), generator=gen)
        state = [torch.randn(s, generator=gen) for s in n._state_shapes(batch)]
        return (x, *state)

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


class ForecastAdapter(Adapter):
    """``ForecastNet(past, future, static) -> forecast``; the encoder is the layer."""

    task = "forecast"
    seq_inputs, seq_outputs = ["past", "future", "static"], ["forecast"]
    meaning = {"past": "(N, L, F_in) scaled targets | scaled past covariates | calendar features",
               "future": "(N, horizon, F_cal) calendar features of the forecast steps",
               "static": "(N, S) scaled static covariates",
               "forecast": "(N, horizon, C, K) scaled; K = quantiles, (mean, raw scale) or 1",
               "past_t": "(N, F_in) one step of past"}

    def layer(self):
        return self.net.encoder

    @staticmethod
    def run(net, past, future, static):
        return net(past, future, static)

    n_future: int | None = None  # calendar features per future step: Forecaster.dims_

    def _constants(self, batch, gen):
        if self.n_future is None:
            raise ConfigError("export: a bare ForecastNet does not say how many calendar "
                              "features each future step has; export the Forecaster itself")
        head_in = self.net.head[0].in_features - self.net.encoder.real_hidden_size
        future = torch.randn(batch, self.net.horizon, self.n_future, generator=gen)
        static = torch.randn(batch, head_in - self.net.horizon * self.n_future, generator=gen)
        return future, static

    def example(self, batch, length, gen):
        past = torch.randn(batch, length, self.net.encoder.input_size, generator=gen)
        return (past, *self._constants(batch, gen))

    def seq_axes(self):
        return {"past": {0: "batch", 1: "length"}, "future": {0: "batch"},
                "static": {0: "batch"}, "forecast": {0: "batch"}}

    def step_module(self):
        self.check_streamable("Forecaster")
        step = StepLayer(self.net.encoder)
        net = self.net

        def fn(mods, past_t, future, static, *state):
            y, *new = mods[0](past_t, *state)
            z = torch.cat([y, future.flatten(1), static], dim=1)  # (N, P + H*F_cal + S)
            delta = mods[1].head(z).view(-1, mods[1].horizon, mods[1].n_targets, mods[1].n_outputs)
            last = past_t[:, : mods[1].n_targets]  # (N, C)
            return (last[:, None, :, None] + delta, *new)

        return _Call(nn.ModuleList([step, net]), fn)

    def step_io(self):
        return ["past_t"], ["future", "static"], ["forecast"]

    def step_example(self, batch, length, gen):
        past, future, static = self.example(batch, length, gen)
        return {"past_t": past}, {"future": future, "static": static}

    def step_reference(self, streams, consts):
        past, out = streams["past_t"], []
        with torch.no_grad():
            for t in range(past.shape[1]):
                out.append(self.net(past[:, : t + 1], consts["future"], consts["static"]))
        return {"forecast": torch.stack(out, dim=1)}


class ClassifierAdapter(Adapter):
    """``SequenceClassifierNet(x, lengths) -> logits``; padded batches are exact."""

    task = "classify-series"
    seq_inputs, seq_outputs = ["x", "lengths"], ["logits"]
    meaning = {"x": "(N, L, C) scaled series, zero padded after each one's length",
               "lengths": "(N,) int64 real length of each series, 1..L",
               "logits": "(N, K) class scores; softmax for probabilities",
               "x_t": "(N, C) one scaled step", "sum": "(N, P) running sum of top-layer outputs",
               "count": "(N, 1) steps seen so far"}

    def layer(self):
        return self.net.encoder

    @staticmethod
    def run(net, x, lengths):
        return net(x, lengths)

    def example(self, batch, length, gen):
        x = torch.randn(batch, length, self.net.encoder.input_size, generator=gen)
        lengths = torch.randint(1, length + 1, (batch,), generator=gen)
        lengths[0] = length
        x = x * (torch.arange(length)[None, :, None] < lengths[:, None, None])  # zero padding
        return x, lengths

    def seq_axes(self):
        return {"x": {0: "batch", 1: "length"}, "lengths": {0: "batch"}, "logits": {0: "batch"}}

    def _mean(self) -> bool:
        return self.net.pooling in ("mean", "last+mean")

    def state_names(self):
        return super().state_names() + (["sum", "count"] if self._mean() else [])

    def zero_state(self, batch):
        P = self.net.encoder.real_hidden_size
        extra = [torch.zeros(batch, P), torch.zeros(batch, 1)] if self._mean() else []
        return super().zero_state(batch) + extra

    def step_module(self):
        self.check_streamable("SequenceClassifier")
        step, n_rec = StepLayer(self.net.encoder), len(super().state_names())

        def fn(mods, x_t, *state):
            y, *new = mods[0](x_t, *state[:n_rec])
            net, parts = mods[1], []
            if net.pooling in ("last", "last+mean"):
                parts.append(new[0][-1])  # (N, P): top layer's h
            if net.pooling in ("mean", "last+mean"):
                total, count = state[n_rec] + y, state[n_rec + 1] + 1.0
                parts.append(total / count)
                new += [total, count]
            return (net.head(torch.cat(parts, dim=1)), *new)

        return _Call(nn.ModuleList([step, self.net]), fn)

    def step_io(self):
        return ["x_t"], [], ["logits"]

    def step_example(self, batch, length, gen):
        return {"x_t": torch.randn(batch, length, self.net.encoder.input_size, generator=gen)}, {}

    def step_reference(self, streams, consts):
        x, out = streams["x_t"], []
        with torch.no_grad():
            for t in range(x.shape[1]):
                out.append(self.net(x[:, : t + 1], torch.full((x.shape[0],), t + 1)))
        return {"logits": torch.stack(out, dim=1)}


class NextStepAdapter(Adapter):
    """Anomaly ``NextStepNet(x, prev, h0[, c0]) -> (predictions, h_n[, c_n])``."""

    task = "anomaly"
    meaning = {"x": "(N, L, C) standardized values", "prev": "(N, C) the value before x[:, 0] "
               "(x[:, 0] itself at the start of a series)",
               "predictions": "(N, L, K, C): [:, t, k] predicts x[:, t + k + 1]",
               "x_t": "(N, C) one standardized step", "prev_t": "(N, C) the step before x_t",
               "h0": "initial h", "c0": "initial c", "h_n": "final h", "c_n": "final c"}

    def __init__(self, net) -> None:
        super().__init__(net)
        lstm = net.rnn.mode == "LSTM"
        self.seq_inputs = ["x", "prev", "h0"] + (["c0"] if lstm else [])
        self.seq_outputs = ["predictions", "h_n"] + (["c_n"] if lstm else [])

    def layer(self):
        return self.net.rnn

    @staticmethod
    def run(net, x, prev, h0, c0=None):
        pred, state = net(x, prev, h0 if c0 is None else (h0, c0))
        return (pred, *_flat_state(state))

    @staticmethod
    def export_run(net, x, prev, h0, c0=None):
        """``NextStepNet.forward`` with ``torch.diff`` (no ONNX op) as a subtraction."""
        dx = x - torch.cat([prev.unsqueeze(1), x[:, :-1]], dim=1)  # (N, L, C)
        out, state = net.rnn(dx, h0 if c0 is None else (h0, c0))
        return (net._predict(x, out), *_flat_state(state))

    def example(self, batch, length, gen):
        C = self.net.n_channels
        x, prev = torch.randn(batch, length, C, generator=gen), torch.randn(batch, C, generator=gen)
        return (x, prev, *[torch.randn(s, generator=gen) for s in self.layer()._state_shapes(batch)])

    def seq_axes(self):
        axes = {"x": {0: "batch", 1: "length"}, "prev": {0: "batch"},
                "predictions": {0: "batch", 1: "length"}}
        axes.update({k: {1: "batch"} for k in ("h0", "c0", "h_n", "c_n")})
        return axes

    def step_module(self):
        step = StepLayer(self.net.rnn)

        def fn(mods, x_t, prev_t, *state):
            y, *new = mods[0](x_t - prev_t, *state)
            return (mods[1]._predict(x_t, y), *new)

        return _Call(nn.ModuleList([step, self.net]), fn)

    def step_io(self):
        return ["x_t", "prev_t"], [], ["predictions"]

    def step_example(self, batch, length, gen):
        x = torch.randn(batch, length, self.net.n_channels, generator=gen)
        prev = torch.cat([x[:, :1], x[:, :-1]], dim=1)  # prev_t = x_{t-1}, x_0 at the start
        return {"x_t": x, "prev_t": prev}, {}

    def step_reference(self, streams, consts):
        with torch.no_grad():
            pred, _ = self.net(streams["x_t"], streams["prev_t"][:, 0])
        return {"predictions": pred}


class AutoencoderAdapter(Adapter):
    """Anomaly ``WindowAutoencoder(x, anchor) -> reconstruction``; sequence graph only."""

    task = "anomaly"
    seq_inputs, seq_outputs = ["x", "anchor"], ["reconstruction"]
    meaning = {"x": "(N, W, C) standardized window", "anchor": "(N, C) the value before the "
               "window (its own first value for a series' first window)",
               "reconstruction": "(N, W, C) the reconstructed window"}

    def layer(self):
        return self.net.encoder

    @staticmethod
    def run(net, x, anchor):
        return net(x, anchor)

    def example(self, batch, length, gen):
        C = self.net.head.out_features
        return torch.randn(batch, length, C, generator=gen), torch.randn(batch, C, generator=gen)

    def seq_axes(self):
        return {"x": {0: "batch", 1: "length"}, "anchor": {0: "batch"},
                "reconstruction": {0: "batch", 1: "length"}}

    def step_module(self):
        raise _no_stream("AnomalyDetector(method='autoencoder')", "the decoder reconstructs a "
                         "whole window from its code, so there is no per-step output")


class TextAdapter(Adapter):
    """``TextClassifierNet(ids, lengths) -> logits``; padded batches are exact. An ensemble
    exports as one graph whose logits carry the members' mean probabilities."""

    task = "classify-text"
    seq_inputs, seq_outputs = ["ids", "lengths"], ["logits"]
    meaning = {"ids": "(N, L) int64 token ids from the vocabulary in the metadata, 0 (<pad>) "
               "after each text's length", "lengths": "(N,) int64 tokens of each text, 1..L",
               "logits": "(N, K) class scores; softmax (sigmoid for multi-label) for probabilities"}

    def layer(self):
        return self.net.encoder

    @staticmethod
    def run(net, ids, lengths):
        return net(ids, lengths)

    def example(self, batch, length, gen):
        vocab = self.net.embedding.num_embeddings
        ids = torch.randint(4, max(vocab, 5), (batch, length), generator=gen)
        lengths = torch.randint(1, length + 1, (batch,), generator=gen)
        lengths[0] = length
        return ids * (torch.arange(length)[None, :] < lengths[:, None]), lengths

    def seq_axes(self):
        return {"ids": {0: "batch", 1: "length"}, "lengths": {0: "batch"}, "logits": {0: "batch"}}

    def step_module(self):
        raise _no_stream("TextClassifier", "attention pooling weighs every token of the whole text")


class LanguageModelAdapter(Adapter):
    """``LanguageModelNet(ids, h0[, c0]) -> (logits, h_n[, c_n])``; the step graph reads one
    token id per stream and carries the state (text generation in onnxruntime)."""

    task = "lm"
    meaning = {"ids": "(N, L) int64 token ids from the vocabulary in the metadata (a record "
               "starts after <eos> = 3)", "logits": "(N, L, V) next-token scores; softmax for "
               "probabilities", "ids_t": "(N,) int64 one token per stream",
               "h0": "initial h", "c0": "initial c", "h_n": "final h", "c_n": "final c"}

    def __init__(self, net) -> None:
        super().__init__(net)
        lstm = net.rnn.mode == "LSTM"
        self.seq_inputs = ["ids", "h0"] + (["c0"] if lstm else [])
        self.seq_outputs = ["logits", "h_n"] + (["c_n"] if lstm else [])

    def layer(self):
        return self.net.rnn

    @staticmethod
    def run(net, ids, h0, c0=None):
        logits, state = net(ids, h0 if c0 is None else (h0, c0))
        return (logits, *_flat_state(state))

    def example(self, batch, length, gen):
        V = self.net.embedding.num_embeddings
        ids = torch.randint(0, V, (batch, length), generator=gen)
        return (ids, *[torch.randn(s, generator=gen) for s in self.layer()._state_shapes(batch)])

    def seq_axes(self):
        axes = {"ids": {0: "batch", 1: "length"}, "logits": {0: "batch", 1: "length"}}
        axes.update({k: {1: "batch"} for k in ("h0", "c0", "h_n", "c_n")})
        return axes

    def step_module(self):
        self.check_streamable("LanguageModel")
        step = StepLayer(self.net.rnn)

        def fn(mods, ids_t, *state):
            y, *new = mods[0](mods[1].embedding(ids_t), *state)
            return (mods[1]._logits(y), *new)

        return _Call(nn.ModuleList([step, self.net]), fn)

    def step_io(self):
        return ["ids_t"], [], ["logits"]

    def step_example(self, batch, length, gen):
        V = self.net.embedding.num_embeddings
        return {"ids_t": torch.randint(0, V, (batch, length), generator=gen)}, {}

    def step_reference(self, streams, consts):
        with torch.no_grad():
            logits, _ = self.net(streams["ids_t"])
        return {"logits": logits}


def adapter_for(net: nn.Module) -> Adapter:
    """The adapter of a network rnnkit knows how to export."""
    from rnnkit.tasks.anomaly.networks import NextStepNet, WindowAutoencoder
    from rnnkit.tasks.classify_series.model import SequenceClassifierNet
    from rnnkit.tasks.classify_text.model import TextClassifierEnsemble, TextClassifierNet
    from rnnkit.tasks.forecast.model import ForecastNet
    from rnnkit.tasks.lm.model import LanguageModelNet

    kinds = {RecurrentLayer: LayerAdapter, ForecastNet: ForecastAdapter,
             SequenceClassifierNet: ClassifierAdapter, NextStepNet: NextStepAdapter,
             WindowAutoencoder: AutoencoderAdapter, TextClassifierNet: TextAdapter,
             TextClassifierEnsemble: TextAdapter,
             LanguageModelNet: LanguageModelAdapter}
    for cls, adapter in kinds.items():
        if isinstance(net, cls):
            return adapter(net)
    raise ConfigError(problem("export: model", expected="an rnnkit estimator (Forecaster, "
                              "SequenceClassifier, AnomalyDetector, TextClassifier, LanguageModel), its model_, or an rnnkit.nn "
                              "layer (RNN, LSTM, GRU)", got=type(net).__name__,
                              fix="for another nn.Module, use torch.onnx.export directly"))
