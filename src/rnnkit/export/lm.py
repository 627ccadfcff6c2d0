"""Export of the ``LanguageModel``'s network, ``LanguageModelNet(ids, h0[, c0]) -> (logits,
h_n[, c_n])``. The step graph reads one token id per stream and carries the state (text
generation in onnxruntime): the network's own :meth:`LanguageModelNet.step` with its layer
swapped for its :class:`rnnkit.export.layers.CarriedStep`.

Shapes: N streams, L length in tokens, V vocabulary size.
"""

from __future__ import annotations

import torch

from rnnkit.export.base import Adapter, Call, as_hx, flat_state, random_state, register_adapter
from rnnkit.tasks.lm.model import LanguageModelNet


@register_adapter(LanguageModelNet)
class LanguageModelNetAdapter(Adapter):
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
        return (logits, *flat_state(state))

    def example(self, batch, length, gen):
        V = self.net.embedding.num_embeddings
        ids = torch.randint(0, V, (batch, length), generator=gen)
        return (ids, *random_state(self.layer(), batch, gen))

    def seq_axes(self):
        axes = {"ids": {0: "batch", 1: "length"}, "logits": {0: "batch", 1: "length"}}
        axes.update({k: {1: "batch"} for k in ("h0", "c0", "h_n", "c_n")})
        return axes

    def step_module(self):
        def one_step(net, ids_t, *state):
            logits, new = net.step(ids_t, as_hx(state))  # (N, V)
            return (logits, *flat_state(new))

        return Call(self.step_net("LanguageModel"), one_step)

    def step_io(self):
        return ["ids_t"], [], ["logits"]

    def step_example(self, batch, length, gen):
        V = self.net.embedding.num_embeddings
        return {"ids_t": torch.randint(0, V, (batch, length), generator=gen)}, {}

    def step_reference(self, streams, consts):
        with torch.no_grad():
            logits, _ = self.net(streams["ids_t"])
        return {"logits": logits}
