"""Export of the ``AnomalyDetector``'s networks.

* ``method="predict"``: ``NextStepNet(x, prev, h0[, c0]) -> (predictions, h_n[, c_n])``,
  the network's own forward (its change ``x_t - x_{t-1}`` is a subtraction, an ONNX op);
  the step graph is its own :meth:`NextStepNet.step` with the layer swapped for its
  :class:`rnnkit.export.layers.CarriedStep`.
* ``method="autoencoder"``: ``WindowAutoencoder(x, anchor) -> reconstruction``; sequence
  graph only (the decoder needs the whole window's code).

Shapes: N batch, L length, W window, C channels, K horizons.
"""

from __future__ import annotations

import torch

from rnnkit.export.base import Adapter, Call, as_hx, flat_state, no_stream, random_state, register_adapter
from rnnkit.tasks.anomaly.model import NextStepNet, WindowAutoencoder


@register_adapter(NextStepNet)
class NextStepNetAdapter(Adapter):
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
        return (pred, *flat_state(state))

    def example(self, batch, length, gen):
        C = self.net.n_channels
        x, prev = torch.randn(batch, length, C, generator=gen), torch.randn(batch, C, generator=gen)
        return (x, prev, *random_state(self.layer(), batch, gen))

    def seq_axes(self):
        axes = {"x": {0: "batch", 1: "length"}, "prev": {0: "batch"},
                "predictions": {0: "batch", 1: "length"}}
        axes.update({k: {1: "batch"} for k in ("h0", "c0", "h_n", "c_n")})
        return axes

    def step_module(self):
        def one_step(net, x_t, prev_t, *state):
            pred, new = net.step(x_t, prev_t, as_hx(state))  # (N, K, C)
            return (pred, *flat_state(new))

        return Call(self.step_net("AnomalyDetector"), one_step)

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


@register_adapter(WindowAutoencoder)
class WindowAutoencoderAdapter(Adapter):
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
        raise no_stream("AnomalyDetector(method='autoencoder')", "the decoder reconstructs a "
                        "whole window from its code, so there is no per-step output")
