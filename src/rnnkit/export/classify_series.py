"""Export of the ``SequenceClassifier``'s network, ``SequenceClassifierNet(x, lengths) ->
logits``; padded batches are exact.

The step graph reads one step of a series per call and gives the logits of the series so
far. It is the network's own forward on a one-step input, with the encoder swapped for a
:class:`RunningOutputs` step: its state is carried, and the one output it returns is the
sum of the outputs of every step so far, so the network's mean pooling
(``out.sum(dim=1) / lengths``) with ``lengths`` = steps so far is the running mean.

Shapes: N batch, L length, C channels, P hidden size, K classes.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit.export.base import Adapter, Call, as_hx, flat_state, register_adapter
from rnnkit.export.layers import CarriedStep
from rnnkit.tasks.classify_series.model import SequenceClassifierNet


class RunningOutputs(CarriedStep):
    """A :class:`CarriedStep` whose output is the running sum of its step outputs: set
    :attr:`total` ``(N, P)`` (the sum before this step) with :attr:`carried`; after the
    call both hold the values to carry."""

    total: Tensor | None = None

    def forward(self, input: Tensor, hx=None, lengths: Tensor | None = None):
        y, state = super().forward(input, hx, lengths)  # y (N, 1, P)
        self.total = self.total + y[:, 0]  # (N, P)
        return self.total[:, None], state  # (N, 1, P): sums over time to the total


@register_adapter(SequenceClassifierNet)
class SequenceClassifierNetAdapter(Adapter):
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
        swapped, n_rec = self.step_net("SequenceClassifier"), len(super().state_names())
        mean = self._mean()
        if mean:
            swapped.encoder = RunningOutputs(self.net.encoder)

        def one_step(net, x_t, *state):
            encoder = net.encoder
            encoder.carried = as_hx(state[:n_rec])
            if not mean:  # "last" pooling reads the carried state only
                logits = net(x_t[:, None], torch.ones_like(x_t[:, 0]))  # (N, K)
                return (logits, *flat_state(encoder.carried))
            encoder.total, count = state[n_rec], state[n_rec + 1] + 1.0  # (N, P), (N, 1) steps
            logits = net(x_t[:, None], count[:, 0])  # (N, K)
            return (logits, *flat_state(encoder.carried), encoder.total, count)

        return Call(swapped, one_step)

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
