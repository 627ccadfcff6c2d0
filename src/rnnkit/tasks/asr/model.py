"""The recognizer network: a convolutional front end, a recurrent stack and a CTC head.

For a batch of ``N`` feature sequences ``x`` ``(N, T, F)`` padded to ``T`` frames, with real
lengths ``T_n``::

    h1 = GELU(Conv1d_F->K(x, stride s1))         # (N, T1, K), T1 = ceil(T / s1)
    h2 = GELU(Conv1d_K->K(h1, stride s2))        # (N, T', K), T' = ceil(T1 / s2)
    z  = LayerNorm(h2)                           # over the K channels
    o, _ = RNN(dropout(z), lengths=T'_n)         # (N, T', D*H), GRU or LSTM, D = 2 if bidirectional
    log p(c | t) = log_softmax(W dropout(o) + b) # (N, T', C), C = 29 (blank, space, a-z, ')

``s1 * s2`` is the ``subsample`` setting (1, 2 or 4); each convolution has an odd kernel
``k`` and padding ``k // 2``, so a sequence of ``T_n`` frames has ``T'_n = ceil(ceil(T_n / s1) / s2)``
output frames. The convolution outputs are zeroed past each sequence's length before the
next layer, and the recurrent layer never lets padding change a real step, so an
utterance gets the same log-probabilities alone or in a padded batch.

The frame rate of the output must stay above the character rate: CTC needs ``T'_n >= |y|
+ r`` frames for a transcript ``y`` with ``r`` doubled letters (a blank must separate them).
At 10 ms hops and ``subsample=4`` that is 25 frames per second, above the ~15
characters per second of read digit strings.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

import rnnkit.nn as rnn
from rnnkit.tasks.asr import alphabet

CELLS = {"gru": rnn.GRU, "lstm": rnn.LSTM}
STRIDES = {1: (1, 1), 2: (2, 1), 4: (2, 2)}


def conv_lengths(lengths: Tensor, stride: int) -> Tensor:
    """Frames after one convolution with odd kernel, padding ``k // 2`` and ``stride``:
    ``ceil(T / stride)``."""
    return torch.div(lengths + stride - 1, stride, rounding_mode="floor")


def output_lengths(lengths: Tensor, subsample: int) -> Tensor:
    """``T'_n`` for input lengths ``T_n`` (see the module doc)."""
    for s in STRIDES[subsample]:
        lengths = conv_lengths(lengths, s)
    return lengths


class SpeechNet(nn.Module):
    def __init__(self, *, n_features: int, n_classes: int = alphabet.SIZE, cell: str = "gru",
                 conv_channels: int = 160, conv_kernel: int = 5, subsample: int = 4,
                 hidden_size: int = 160, num_layers: int = 2, bidirectional: bool = True,
                 layer_norm: bool = False, dropout: float = 0.1) -> None:
        super().__init__()
        self.subsample = subsample
        s1, s2 = STRIDES[subsample]
        pad = conv_kernel // 2
        self.conv1 = nn.Conv1d(n_features, conv_channels, conv_kernel, stride=s1, padding=pad)
        self.conv2 = nn.Conv1d(conv_channels, conv_channels, conv_kernel, stride=s2, padding=pad)
        self.act = nn.GELU()
        self.norm = nn.LayerNorm(conv_channels)
        self.drop = nn.Dropout(dropout)
        self.rnn = CELLS[cell](conv_channels, hidden_size, num_layers=num_layers, batch_first=True,
                               dropout=dropout if num_layers > 1 else 0.0,
                               bidirectional=bidirectional, layer_norm=layer_norm)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), n_classes)

    @property
    def bidirectional(self) -> bool:
        return self.rnn.bidirectional

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """``x`` ``(N, T, F)``, ``lengths`` ``(N,)`` -> ``(log_probs (N, T', C), out_lengths (N,))``."""
        lengths = lengths.to(device=x.device, dtype=torch.int64)
        h = x.transpose(1, 2)  # (N, F, T)
        for conv in (self.conv1, self.conv2):
            h = self.act(conv(h))  # (N, K, T_k)
            lengths = conv_lengths(lengths, conv.stride[0])
            keep = torch.arange(h.shape[2], device=h.device)[None, :] < lengths[:, None]  # (N, T_k)
            h = h * keep[:, None, :].to(h.dtype)
        z = self.drop(self.norm(h.transpose(1, 2)))  # (N, T', K)
        out, _ = self.rnn(z, lengths=lengths.cpu())  # (N, T', D*H)
        return torch.log_softmax(self.head(self.drop(out)), dim=-1), lengths
