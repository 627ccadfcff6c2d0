"""The lexicon bonus: the dictionary's word for each source word, pushed until it is written.

A soft lexical constraint at decoding time (in the spirit of Hokamp and Liu 2017's
constrained decoding, but as a bonus rather than a hard rule). Each source token ``x_s``
whose most probable lexicon translation ``e_s = argmax_e lex(e | x_s)`` has
``lex(e_s | x_s) >= min_prob`` and is a word or ``<unk>`` (not punctuation) is *pending*
until the output writes ``e_s``. While it is pending, the decoder's logit of ``e_s`` gets::

    z_t(e_s) += beta * (-ln pi(e_s))

where ``pi`` is the (add-one) unigram frequency of ``e_s`` in the training targets, so a
rare content word gets a larger push than ``the``. Writing ``e_s`` settles one pending
position that asked for it (the first), so a word the source holds twice is pushed until
it is written twice. ``beta = 0`` is off.

Why: a network trained on a few thousand pairs writes fluent English but swaps or drops
content words that an IBM-1 dictionary of the same pairs knows (docs/seq2seq.md measures
it by word frequency). The bonus hands those words back without changing word order
decisions, and, like beam search's coverage penalty, costs nothing at training time.

Shapes: ``N`` rows (sources or beam hypotheses), ``S`` source positions, ``V`` target ids.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class LexiconBonus:
    """The pending lexicon words of ``N`` decoding rows; :meth:`select` follows beam search."""

    ids: Tensor  # (N, S) e_s, the target id each source position asks for
    weight: Tensor  # (N, S) beta * (-ln pi(e_s)); 0 where position s asks for nothing
    pending: Tensor  # (N, S) True while e_s is still to be written

    @classmethod
    def start(cls, src: Tensor, lex_index: Tensor, lex_prob: Tensor, surprisal: Tensor,
              eligible: Tensor, beta: float, min_prob: float) -> "LexiconBonus":
        """The bonus before the first step. ``src`` ``(N, S)`` source ids (padding 0);
        ``lex_index`` / ``lex_prob`` ``(V_x, K)``, the network's lexicon (most probable
        first); ``surprisal`` ``(V,)`` ``-ln pi(e)``; ``eligible`` ``(V,)`` True for the
        target ids that may be asked for (words and ``<unk>``)."""
        ids, p = lex_index[src, 0], lex_prob[src, 0]  # (N, S); p = 0 at padding (an empty row)
        asks = (p >= min_prob) & (p > 0) & eligible[ids]
        weight = torch.where(asks, beta * surprisal[ids], torch.zeros((), dtype=surprisal.dtype))
        return cls(ids, weight.float(), asks)

    def written(self, prev: Tensor) -> "LexiconBonus":
        """After the tokens ``prev`` ``(N,)`` were written: in each row, the first pending
        position that asked for that token is settled."""
        match = self.pending & (self.ids == prev[:, None])  # (N, S)
        first = torch.zeros_like(match).scatter_(1, match.int().argmax(1, keepdim=True), True) & match
        return LexiconBonus(self.ids, self.weight, self.pending & ~first)

    def logits(self, V: int) -> Tensor:
        """``(N, V)``: the bonus of each target id (the largest if several pending
        positions ask for it, 0 for the rest)."""
        active = torch.where(self.pending, self.weight, torch.zeros_like(self.weight))
        return active.new_zeros(active.shape[0], V).scatter_reduce(1, self.ids, active, "amax")

    def select(self, index: Tensor) -> "LexiconBonus":
        return LexiconBonus(self.ids[index], self.weight[index], self.pending[index])
