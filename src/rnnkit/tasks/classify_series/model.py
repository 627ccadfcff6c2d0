"""The series-classification network: a recurrent encoder over padded batches, a pooled
summary of each series and a linear head.

For a batch of ``N`` series padded to ``L`` steps with real lengths ``T_n``::

    out, h_n = RNN(x, lengths)              # x (N, L, C); out (N, L, D*P), zero at padding
    last = [h_n of the top layer, each direction]           # (N, D*P): forward state at T_n,
                                                            #   backward state at step 1
    mean = sum_{t <= T_n} out[n, t] / T_n                   # (N, D*P)
    z = last | mean | [last, mean]          (pooling = "last", "mean", "last+mean")
    logits = W dropout(z) + b                               # (N, K)

``D`` is 2 for a bidirectional encoder, else 1; ``P`` the hidden size. Because the layer
takes each sequence's final state at its own last step and padding never changes a real
step, a series gets the same logits alone or in a padded batch.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

import rnnkit.nn as rnn

CELLS = {"lstm": rnn.LSTM, "gru": rnn.GRU, "rnn": rnn.RNN}


class SequenceClassifierNet(nn.Module):
    def __init__(self, *, n_channels: int, n_classes: int, cell: str = "lstm", hidden_size: int = 64,
                 num_layers: int = 1, bidirectional: bool = True, pooling: str = "last+mean",
                 dropout: float = 0.0, layer_norm: bool = False, recurrent_dropout: float = 0.0,
                 zoneout: float = 0.0) -> None:
        super().__init__()
        self.pooling = pooling
        self.encoder = CELLS[cell](n_channels, hidden_size, num_layers=num_layers, batch_first=True,
                                   dropout=dropout if num_layers > 1 else 0.0,
                                   bidirectional=bidirectional, layer_norm=layer_norm,
                                   recurrent_dropout=recurrent_dropout, zoneout=zoneout)
        width = hidden_size * (2 if bidirectional else 1)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(width * (2 if pooling == "last+mean" else 1), n_classes)

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        """x ``(N, L, C)`` padded, lengths ``(N,)`` -> logits ``(N, K)``."""
        out, state = self.encoder(x, lengths=lengths)  # out (N, L, D*P)
        parts = []
        if self.pooling in ("last", "last+mean"):
            parts.append(self._last(state, x.shape[0]))
        if self.pooling in ("mean", "last+mean"):
            real = lengths.to(device=out.device, dtype=out.dtype).unsqueeze(1)  # (N, 1)
            parts.append(out.sum(dim=1) / real)  # (N, D*P): padded steps of out are zero
        z = torch.cat(parts, dim=1)  # (N, F)
        return self.head(self.drop(z))  # (N, K)

    def _last(self, state, N: int) -> Tensor:
        h_n = state[0] if isinstance(state, tuple) else state  # (num_layers*D, N, P)
        D = self.encoder.num_directions
        top = h_n.view(self.encoder.num_layers, D, N, -1)[-1]  # (D, N, P)
        return top.transpose(0, 1).reshape(N, -1)  # (N, D*P)
