"""The text-classification network: embeddings, a recurrent encoder over the padded
batch, additive attention pooling over the real tokens and a linear head.

For a batch of ``N`` texts padded to ``L`` tokens with real lengths ``T_n``::

    e = dropout(Embedding(ids))                  # ids (N, L) -> e (N, L, E); <pad> row is 0
    h, _ = RNN(e, lengths)                       # h (N, L, D*H), zero at padding
    u_t = tanh(W_a h_t + b_a)                    # (N, L, A)
    s_t = v^T u_t                                # (N, L) attention scores
    s_t = -inf for t >= T_n                      # padding gets no weight
    a = softmax_t(s)                             # (N, L), sum_{t < T_n} a_t = 1
    z = sum_t a_t h_t                            # (N, D*H)
    logits = W_o dropout(z) + b_o                # (N, K)

This is the additive (Bahdanau et al. 2015) attention used for pooling by Yang et al.
(2016, "Hierarchical Attention Networks"); ``a`` is what :meth:`TextClassifier.explain`
reports per token. ``D`` is 2 for a bidirectional encoder, else 1. Padding never changes
a real step of ``h``, and a padded step gets weight exactly 0, so a text gets the same
logits alone or in a padded batch.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

import rnnkit.nn as rnn
from rnnkit.data.text.vocab import PAD_ID

CELLS = {"lstm": rnn.LSTM, "gru": rnn.GRU}


class AttentionPooling(nn.Module):
    """Additive attention pooling: ``(N, L, F)`` states and lengths -> ``(N, F)`` summary
    and ``(N, L)`` weights (zero past each length)."""

    def __init__(self, features: int, attention_size: int) -> None:
        super().__init__()
        self.proj = nn.Linear(features, attention_size)  # W_a, b_a
        self.score = nn.Linear(attention_size, 1, bias=False)  # v

    def forward(self, h: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        s = self.score(torch.tanh(self.proj(h))).squeeze(-1)  # (N, L)
        steps = torch.arange(h.shape[1], device=h.device)  # (L,)
        pad = steps[None, :] >= lengths.to(h.device)[:, None]  # (N, L) True at padding
        a = torch.softmax(s.masked_fill(pad, float("-inf")), dim=1)  # (N, L)
        z = torch.bmm(a.unsqueeze(1), h).squeeze(1)  # (N, 1, L) @ (N, L, F) -> (N, F)
        return z, a


class TextClassifierNet(nn.Module):
    def __init__(self, *, vocab_size: int, n_classes: int, embedding_dim: int = 128,
                 cell: str = "lstm", hidden_size: int = 64, num_layers: int = 1,
                 bidirectional: bool = True, attention_size: int = 64, dropout: float = 0.0) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD_ID)
        self.encoder = CELLS[cell](embedding_dim, hidden_size, num_layers=num_layers,
                                   batch_first=True, dropout=dropout if num_layers > 1 else 0.0,
                                   bidirectional=bidirectional)
        self.encoder.validate_inputs = False  # embeddings are finite; skip the NaN scan
        width = hidden_size * (2 if bidirectional else 1)
        self.attention = AttentionPooling(width, attention_size)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(width, n_classes)

    def forward(self, ids: Tensor, lengths: Tensor, return_attention: bool = False):
        """ids ``(N, L)`` padded with 0, lengths ``(N,)`` -> logits ``(N, K)`` (and the
        attention weights ``(N, L)`` with ``return_attention``)."""
        return self.from_embedded(self.embedding(ids), lengths, return_attention)

    def from_embedded(self, e: Tensor, lengths: Tensor, return_attention: bool = False):
        """The network from the embeddings ``e`` ``(N, L, E)`` on (dropout included): what
        adversarial training perturbs."""
        e = self.drop(e)  # (N, L, E)
        h, _ = self.encoder(e, lengths=lengths.cpu())  # (N, L, D*H)
        z, a = self.attention(h, lengths)  # (N, D*H), (N, L)
        logits = self.head(self.drop(z))  # (N, K)
        return (logits, a) if return_attention else logits


class TextClassifierEnsemble(nn.Module):
    """``M`` :class:`TextClassifierNet` of one shape whose class probabilities are averaged
    (module doc): the same ``forward`` contract, so prediction, ``explain`` and ONNX export
    treat it like one network. Averaging in log space (``logsumexp`` of log-probabilities)
    keeps the logits finite where a member's probability of a class underflows float32
    (members sure of different classes still average to exactly one half each).

    ``embedding``, ``encoder`` and ``head`` are the first member's (all members share their
    shapes): for code that needs the vocabulary size, the cell or the class count.
    """

    def __init__(self, members: list[TextClassifierNet], multilabel: bool) -> None:
        super().__init__()
        if not members:
            raise ValueError("TextClassifierEnsemble needs at least one member network")
        self.members = nn.ModuleList(members)
        self.multilabel = multilabel

    @property
    def embedding(self) -> nn.Embedding:
        return self.members[0].embedding

    @property
    def encoder(self) -> nn.Module:
        return self.members[0].encoder

    @property
    def head(self) -> nn.Linear:
        return self.members[0].head

    def forward(self, ids: Tensor, lengths: Tensor, return_attention: bool = False):
        """ids ``(N, L)``, lengths ``(N,)`` -> averaged-probability logits ``(N, K)`` (and
        the mean attention ``(N, L)`` with ``return_attention``)."""
        runs = [m(ids, lengths, return_attention=True) for m in self.members]
        z = torch.stack([logits for logits, _ in runs])  # (M, N, K)
        if self.multilabel:  # log q - log(1 - q); the 1/M of both means cancels
            logits = torch.logsumexp(F.logsigmoid(z), 0) - torch.logsumexp(F.logsigmoid(-z), 0)
        else:
            logits = torch.logsumexp(torch.log_softmax(z, dim=-1), 0) - math.log(len(self.members))
        if not return_attention:
            return logits
        return logits, torch.stack([a for _, a in runs]).mean(0)  # (N, L)
