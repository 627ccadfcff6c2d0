"""The dual encoder (Lowe et al. 2015, "The Ubuntu Dialogue Corpus"): a context and a reply
are each read by a recurrent encoder into a unit vector, and a reply's score is their
scaled inner product.

For token ids ``x`` ``(N, L)`` with lengths, one encoder computes::

    e = Embedding(x)                        (N, L, E)   shared by both encoders
    h = RNN(dropout(e))                     (N, L, D*H) GRU or LSTM, D = 2 if bidirectional
    m = mean_t h_t (real steps only)        (N, D*H)    mean-pooling over time
                                                        (pooling="max": the max of the real steps)
    v = normalize(BN(W dropout(m) + b))     (N, K)      K = vector_size, ||v|| = 1

``BN`` is a batch normalisation (``batch_norm=True``; else the identity): at
initialisation max-pooled states of all texts point much the same way (cosines ~0.9
between unrelated contexts), and centring them across the batch lets the scores start
from what differs.

The score of context ``c`` and reply ``r`` is ``s = exp(a) * <v_c, v_r>``, a cosine times
a scale. The scale is learned (``a`` a scalar parameter, started at ``log(scale)``,
kept to ``[log 1, log 100]``) unless ``learn_scale=False`` (a fixed buffer): the cosine of
unit vectors lies in [-1, 1], so without a scale of 10-30 a softmax over a batch of 128
replies cannot get sharp, and learning it (as CLIP does) spares tuning it.

Training (:mod:`~rnnkit.tasks.chat.training`) is a softmax over the batch's replies:
``S = scale * C R^T`` ``(N, N)``, the target of row ``i`` is column ``i``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

import rnnkit.nn as rnn
from rnnkit.data.text.vocab import PAD_ID

CELLS = {"lstm": rnn.LSTM, "gru": rnn.GRU}
MIN_LOG_SCALE, MAX_LOG_SCALE = 0.0, math.log(100.0)


class Encoder(nn.Module):
    """Recurrent encoder with pooling over time and a projection: embedded tokens ``(N, L, E)``
    and lengths ``(N,)`` -> unit vectors ``(N, K)`` (the embedding is the parent's, shared)."""

    def __init__(self, embedding_dim: int, *, cell: str, hidden_size: int, num_layers: int,
                 bidirectional: bool, vector_size: int, dropout: float, pooling: str = "max",
                 batch_norm: bool = False) -> None:
        super().__init__()
        self.pooling = pooling
        self.rnn = CELLS[cell](embedding_dim, hidden_size, num_layers=num_layers,
                               batch_first=True, bidirectional=bidirectional,
                               dropout=dropout if num_layers > 1 else 0.0)
        self.rnn.validate_inputs = False  # embeddings are finite; skip the NaN scan
        self.drop = nn.Dropout(dropout)
        self.proj = nn.Linear(hidden_size * (2 if bidirectional else 1), vector_size)
        self.norm = nn.BatchNorm1d(vector_size) if batch_norm else nn.Identity()

    def forward(self, e: Tensor, lengths: Tensor) -> Tensor:
        if self.rnn.bidirectional:
            h, _ = self.rnn(self.drop(e), lengths=lengths.cpu())  # (N, L, D*H), zero past each length
        else:  # one direction: padding comes after every real step, so it cannot change one
            h, _ = self.rnn(self.drop(e))  # (N, L, H); the fused kernel, no packing
        steps = torch.arange(h.shape[1], device=h.device)  # (L,)
        pad = steps[None, :] >= lengths.to(h.device)[:, None]  # (N, L)
        if self.pooling == "max":
            m = h.masked_fill(pad[..., None], float("-inf")).amax(1)  # (N, D*H)
        else:  # mean over the real steps
            m = h.masked_fill(pad[..., None], 0.0).sum(1) / lengths.to(h.device, h.dtype)[:, None]  # (N, D*H)
        return F.normalize(self.norm(self.proj(self.drop(m))), dim=-1)  # (N, K)


class DualEncoder(nn.Module):
    """Context and reply encoders over one word embedding, and the score scale (module doc)."""

    def __init__(self, *, vocab_size: int, embedding_dim: int = 128, cell: str = "gru",
                 hidden_size: int = 128, num_layers: int = 1, bidirectional: bool = True,
                 vector_size: int = 128, dropout: float = 0.0, scale: float = 20.0,
                 learn_scale: bool = True, pooling: str = "max", batch_norm: bool = False) -> None:
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_dim, padding_idx=PAD_ID)
        shape = dict(cell=cell, hidden_size=hidden_size, num_layers=num_layers,
                     bidirectional=bidirectional, vector_size=vector_size, dropout=dropout,
                     pooling=pooling, batch_norm=batch_norm)
        self.context = Encoder(embedding_dim, **shape)
        self.reply = Encoder(embedding_dim, **shape)
        log_scale = torch.tensor(math.log(scale), dtype=torch.float32)
        if learn_scale:
            self.log_scale = nn.Parameter(log_scale)
        else:
            self.register_buffer("log_scale", log_scale)

    @property
    def scale(self) -> Tensor:
        """``exp(a)``, ``a`` clamped to ``[0, log 100]`` (a scalar tensor)."""
        return self.log_scale.clamp(MIN_LOG_SCALE, MAX_LOG_SCALE).exp()

    def encode_context(self, ids: Tensor, lengths: Tensor) -> Tensor:
        """Context ids ``(N, L)`` -> unit vectors ``(N, K)``."""
        return self.context(self.embedding(ids), lengths)

    def encode_reply(self, ids: Tensor, lengths: Tensor) -> Tensor:
        """Reply ids ``(N, L)`` -> unit vectors ``(N, K)``."""
        return self.reply(self.embedding(ids), lengths)

    def forward(self, context_ids: Tensor, context_lengths: Tensor, reply_ids: Tensor,
                reply_lengths: Tensor) -> Tensor:
        """Scores ``(N, N)`` of every context (rows) with every reply (columns) of a batch."""
        c = self.encode_context(context_ids, context_lengths)  # (N, K)
        r = self.encode_reply(reply_ids, reply_lengths)  # (N, K)
        return self.scale * c @ r.T  # (N, N)
