"""Attention of a decoder state over the encoder's outputs, masked over source padding.

For one decoder query ``q`` ``(N, Q)`` and the encoder outputs (keys) ``k_s`` ``(N, S, K)``
of a batch padded to ``S`` source tokens with real lengths ``S_n``::

    Bahdanau (additive, Bahdanau et al. 2015):  e_s = v^T tanh(W_q q + W_k k_s)
    Luong "general" (multiplicative, Luong et al. 2015):  e_s = q^T W k_s
    e_s = -inf for s >= S_n                      # padding gets no weight
    a = softmax_s(e)                             # (N, S), sum_{s < S_n} a_s = 1
    c = sum_s a_s k_s                            # (N, K) context vector

Shapes: ``W_q`` ``(A, Q)``, ``W_k`` ``(A, K)``, ``v`` ``(A,)`` (additive, width ``A``);
``W`` ``(Q, K)`` (general). Both project the keys once per source sentence
(:meth:`prepare`: ``W_k k_s`` or ``W k_s``), not once per decoder step. Here the query is
the decoder's output at the current step ``h_t`` (the Luong et al. framework; Bahdanau's
paper feeds the previous state, the score function is the same). A padded source step
gets weight exactly 0, so a sentence attends the same alone or in a padded batch.

Coverage (``coverage=True``; Tu et al. 2016, "Modeling Coverage for Neural Machine
Translation"): the score also sees how much attention each source token has had so far,
``C_{t-1}(s) = sum_{t' < t} a_{t'}(s)`` ``(N, S)`` (0 before the first step), so the decoder
can learn to move on from words it has translated and to come back to words it skipped::

    Bahdanau:  e_s = v^T tanh(W_q q + W_k k_s + w_c C_{t-1}(s))       # w_c (A,)
    Luong:     e_s = q^T W k_s + (u^T q + b) C_{t-1}(s)               # u (Q,), b scalar

(in Luong's form the query decides how strongly, and in which direction, coverage counts).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


def padding_mask(lengths: Tensor, S: int) -> Tensor:
    """``(N, S)`` bool, True at padding (``s >= lengths[n]``)."""
    steps = torch.arange(S, device=lengths.device)  # (S,)
    return steps[None, :] >= lengths[:, None]


def masked_softmax(scores: Tensor, pad: Tensor) -> Tensor:
    """softmax over the last axis of ``scores`` ``(N, S)`` with ``pad`` ``(N, S)`` set to -inf."""
    return torch.softmax(scores.masked_fill(pad, float("-inf")), dim=-1)


class BahdanauAttention(nn.Module):
    """Additive attention ``e_s = v^T tanh(W_q q + W_k k_s)`` (see the module doc)."""

    def __init__(self, query_size: int, key_size: int, attention_size: int,
                 coverage: bool = False) -> None:
        super().__init__()
        self.W_q = nn.Linear(query_size, attention_size, bias=False)
        self.W_k = nn.Linear(key_size, attention_size, bias=True)
        self.v = nn.Linear(attention_size, 1, bias=False)
        self.w_c = nn.Parameter(torch.zeros(attention_size)) if coverage else None

    def prepare(self, keys: Tensor) -> Tensor:
        """``W_k k_s`` ``(N, S, A)`` from keys ``(N, S, K)``, once per source batch."""
        return self.W_k(keys)

    def forward(self, q: Tensor, keys: Tensor, projected: Tensor, pad: Tensor,
                coverage: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``q`` ``(N, Q)``, ``keys`` ``(N, S, K)``, ``projected`` from :meth:`prepare`,
        ``pad`` ``(N, S)`` (and ``coverage`` ``(N, S)`` for a coverage attention) -> context
        ``(N, K)`` and weights ``(N, S)``."""
        hidden = self.W_q(q)[:, None, :] + projected  # (N, S, A)
        if self.w_c is not None:
            hidden = hidden + _coverage(coverage, q)[:, :, None] * self.w_c  # + w_c C(s)
        e = self.v(torch.tanh(hidden)).squeeze(-1)  # (N, S)
        a = masked_softmax(e, pad)  # (N, S)
        c = torch.bmm(a[:, None, :], keys).squeeze(1)  # (N, 1, S) @ (N, S, K) -> (N, K)
        return c, a


class LuongAttention(nn.Module):
    """Multiplicative ("general") attention ``e_s = q^T W k_s`` (see the module doc)."""

    def __init__(self, query_size: int, key_size: int, coverage: bool = False) -> None:
        super().__init__()
        self.W = nn.Linear(key_size, query_size, bias=False)  # k -> W k, (Q, K)
        self.u = nn.Linear(query_size, 1) if coverage else None  # u^T q + b
        if self.u is not None:
            nn.init.zeros_(self.u.weight)
            nn.init.zeros_(self.u.bias)

    def prepare(self, keys: Tensor) -> Tensor:
        """``W k_s`` ``(N, S, Q)`` from keys ``(N, S, K)``, once per source batch."""
        return self.W(keys)

    def forward(self, q: Tensor, keys: Tensor, projected: Tensor, pad: Tensor,
                coverage: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """As :meth:`BahdanauAttention.forward`."""
        e = torch.bmm(projected, q[:, :, None]).squeeze(-1)  # (N, S, Q) @ (N, Q, 1) -> (N, S)
        if self.u is not None:
            e = e + self.u(q) * _coverage(coverage, q)  # (N, 1) * (N, S)
        a = masked_softmax(e, pad)  # (N, S)
        c = torch.bmm(a[:, None, :], keys).squeeze(1)  # (N, K)
        return c, a


def _coverage(coverage: Tensor | None, q: Tensor) -> Tensor:
    if coverage is None:
        raise ValueError(f"a coverage attention needs the coverage (N, S) of the {q.shape[0]} "
                         "queries: pass coverage=, zeros before the first step")
    return coverage


def make_attention(kind: str, query_size: int, key_size: int, attention_size: int,
                   coverage: bool = False) -> nn.Module:
    if kind == "bahdanau":
        return BahdanauAttention(query_size, key_size, attention_size, coverage)
    return LuongAttention(query_size, key_size, coverage)
