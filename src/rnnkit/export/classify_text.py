"""Export of the ``TextClassifier``'s network, ``TextClassifierNet(ids, lengths) -> logits``
(an ensemble exports as one graph whose logits carry the members' mean probabilities);
padded batches are exact. Sequence graph only: attention pooling weighs every token.

Shapes: N batch, L length in tokens, K classes.
"""

from __future__ import annotations

import torch

from rnnkit.export.base import Adapter, no_stream, register_adapter
from rnnkit.tasks.classify_text.model import TextClassifierEnsemble, TextClassifierNet


@register_adapter(TextClassifierNet, TextClassifierEnsemble)
class TextClassifierNetAdapter(Adapter):
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
        raise no_stream("TextClassifier", "attention pooling weighs every token of the whole text")
