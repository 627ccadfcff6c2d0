"""The language-model network: embedding -> recurrent layers -> softmax head.

For ``N`` streams of ``L`` token ids and a carried state ``s``::

    e = dropout(Embedding_M(ids))           # ids (N, L) -> e (N, L, E)
    h, s' = RNN(e, s)                       # h (N, L, H); s' the state after the last step
    z = dropout(h)                          # (N, L, H)
    z = W_p z           (tied, H != E)      # (N, L, E) projection to the embedding width
    logits = W_o z + b_o                    # (N, L, V); W_o = the embedding matrix when tied

``Embedding_M`` is the embedding with its matrix ``W_e ⊙ m / (1 - p_e)`` in training,
``m ~ Bernoulli(1 - p_e)`` one per vocabulary row and batch (``embedding_dropout``: a dropped
word is zero wherever it occurs in the batch; Gal & Ghahramani 2016, AWD-LSTM), and ``W_e``
at inference. ``log softmax(logits)[n, t, v]`` is ``log p(x_{t+1} = v | x_{<=t})``. Tying the input and
output embeddings (Press & Wolf 2017; Inan et al. 2017) saves ``V * E`` parameters and
usually lowers perplexity. The RNN is :mod:`rnnkit.nn` (``LSTM`` or ``GRU``, with the
optional ``layer_norm``, ``recurrent_dropout``, ``zoneout`` and ``weight_drop``); without extras it runs
torch's fused kernel. :meth:`LanguageModelNet.step` reads one token per stream through
the layer's streaming step and gives the logits of the whole-sequence call (eval mode).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

import rnnkit.nn as rnn

CELLS = {"lstm": rnn.LSTM, "gru": rnn.GRU}


class LanguageModelNet(nn.Module):
    def __init__(self, *, vocab_size: int, embedding_dim: int = 64, cell: str = "lstm",
                 hidden_size: int = 256, num_layers: int = 1, dropout: float = 0.0,
                 layer_norm: bool = False, recurrent_dropout: float = 0.0, zoneout: float = 0.0,
                 weight_drop: float = 0.0, embedding_dropout: float = 0.0,
                 tie_weights: bool = True) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.rnn = CELLS[cell](embedding_dim, hidden_size, num_layers=num_layers, batch_first=True,
                               dropout=dropout if num_layers > 1 else 0.0, layer_norm=layer_norm,
                               recurrent_dropout=recurrent_dropout, zoneout=zoneout,
                               weight_drop=weight_drop)
        self.embedding_dropout = float(embedding_dropout)
        self.rnn.validate_inputs = False  # embeddings are finite; skip the NaN scan
        self.drop = nn.Dropout(dropout)
        width = hidden_size
        self.proj = None
        if tie_weights and hidden_size != embedding_dim:
            self.proj = nn.Linear(hidden_size, embedding_dim, bias=False)  # W_p
            width = embedding_dim
        self.head = nn.Linear(width, vocab_size)
        if tie_weights:
            self.head.weight = self.embedding.weight  # W_o is the embedding matrix (V, E)

    def logits(self, h: Tensor) -> Tensor:
        """The softmax head on top-layer states: ``h`` ``(..., H)`` -> logits ``(..., V)``,
        ``W_o dropout(h) + b_o`` (through ``W_p`` first when tied and ``H != E``; see the
        module doc). :meth:`forward` and :meth:`step` end with it; an exported one-step
        graph calls it on the layer's step output."""
        z = self.drop(h)
        if self.proj is not None:
            z = self.proj(z)
        return self.head(z)

    def forward(self, ids: Tensor, state=None) -> tuple[Tensor, object]:
        """ids ``(N, L)`` int64, state None (zeros) or the layer's ``hx`` -> logits
        ``(N, L, V)`` and the state after the last step."""
        e = self.drop(self._embed(ids))  # (N, L, E)
        h, state = self.rnn(e, state)  # (N, L, H)
        return self.logits(h), state

    def _embed(self, ids: Tensor) -> Tensor:
        """``Embedding_M(ids)``: whole rows dropped in training (see the module doc)."""
        p = self.embedding_dropout
        if not self.training or p == 0.0:
            return self.embedding(ids)
        w = self.embedding.weight  # (V, E)
        keep = (torch.rand(w.shape[0], 1, device=w.device) >= p).to(w.dtype) / (1.0 - p)
        return F.embedding(ids, w * keep)

    def step(self, ids: Tensor, state=None) -> tuple[Tensor, object]:
        """One token per stream at inference: ids ``(N,)`` -> logits ``(N, V)``, state."""
        e = self.embedding(ids)  # (N, E)
        h, state = self.rnn.step(e, state)  # (N, H)
        return self.logits(h), state
