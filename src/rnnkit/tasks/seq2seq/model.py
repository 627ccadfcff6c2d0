"""The sequence-to-sequence network: a bidirectional encoder, a bridge, and an attentional
decoder with input feeding (Luong et al. 2015, "Effective Approaches to Attention-based
Neural Machine Translation").

For a source ``x`` of ``S`` tokens and a target ``y`` of ``T`` tokens (``y_0 = <bos>``)::

    k_1..k_S = BiRNN(Embed_x(x), lengths)          # (N, S, H): H/2 forward ++ H/2 backward
    s_0 = tanh(W_b [h_fwd_S ; h_bwd_1] + b_b)       # bridge: per layer (N, H); LSTM also c
    f_0 = 0                                         # (N, H) attentional vector fed back
    for t = 1..T:
        h_t, s_t = RNN_dec([Embed_y(y_{t-1}) ; f_{t-1}], s_{t-1})   # input feeding
        c_t, a_t = attention(h_t, k)               # context (N, H), weights (N, S)
        f_t = tanh(W_c [c_t ; h_t])                # attentional vector (N, H)
        p(y_t | y_<t, x) = softmax(W_o dropout(f_t) + b_o [+ log(p_lex_t + eps)])  # (N, V_y)

With a lexicon (``lexicon_top_k > 0``; :mod:`~rnnkit.tasks.seq2seq.lexicon`, Arthur et al.
2016), ``p_lex_t(e) = sum_s a_t(s) lex(e | x_s)``: each source token's ``K`` most probable
translations, weighted by the step's attention, added in log space with ``eps = 1e-3``
(the lexicon is a fixed buffer; gradients reach the attention through it).

With ``lexical_model=True`` (Nguyen & Chiang 2018, "Improving Lexical Choice in Neural
Machine Translation") the attention also averages the source *embeddings* and a small
feed-forward layer maps that straight to the output, a short path from each source word to
its translation that does not go through the recurrent states::

    l_t = tanh(sum_s a_t(s) Embed_x(x_s))          # (N, E)
    z_t += W_l (tanh(W_h l_t) + l_t) + b_l         # added to the logits; W_h (E, E), W_l (V_y, E)

With ``tie_embeddings=True`` (Press & Wolf 2017, "Using the Output Embedding to Improve
Language Models"; Inan et al. 2017) the output layer reuses the target embeddings: the
attentional vector is projected to the embedding width and scored against every target
word's embedding, so each word has one vector for reading and writing it::

    z_t = Embed_y.weight P f_t + b_o               # P (E, H); Embed_y.weight (V_y, E)

``attention`` is Bahdanau (additive) or Luong (general), masked over source padding (see
:mod:`~rnnkit.tasks.seq2seq.attention`). With ``coverage=True`` it also sees the coverage
``C_{t-1}(s) = sum_{t' < t} a_{t'}(s)`` ``(N, S)``, which the state carries from step to step. The encoder reads the padded batch with
``lengths``, so a pad never changes a real step: a sentence gives the same outputs alone
or in a padded batch. Training feeds the reference ``y_{t-1}`` (teacher forcing);
decoding feeds the model's own choice, one :meth:`Seq2SeqNet.step` at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

import rnnkit.nn as rnn
from rnnkit.data.text.vocab import PAD_ID
from rnnkit.tasks.seq2seq.attention import make_attention, padding_mask
from rnnkit.tasks.seq2seq.bonus import LexiconBonus

CELLS = {"lstm": rnn.LSTM, "gru": rnn.GRU}
LEXICON_EPS = 1e-3  # log(p_lex + eps): a word outside the lexicon is damped, not forbidden


@dataclass
class DecoderState:
    """Everything one decoding step needs, batch along ``N``; :meth:`select` reorders or
    repeats the rows (beam search)."""

    rnn: Tensor | tuple[Tensor, Tensor]  # decoder state, each (num_layers, N, H)
    feed: Tensor  # (N, H) previous attentional vector f_{t-1}
    keys: Tensor  # (N, S, H) encoder outputs
    projected: Tensor  # (N, S, A or H) keys projected by the attention
    pad: Tensor  # (N, S) True at source padding
    lex_index: Tensor | None = None  # (N, S * K) target ids of each source token's lexicon row
    lex_prob: Tensor | None = None  # (N, S, K) their probabilities (0 at padding)
    embedded: Tensor | None = None  # (N, S, E) source embeddings (lexical_model only)
    coverage: Tensor | None = None  # (N, S) attention summed over the steps so far (coverage only)
    bonus: LexiconBonus | None = None  # pending lexicon words (decoding with lexicon_bonus only)

    def select(self, index: Tensor) -> "DecoderState":
        rnn_state = (tuple(s[:, index] for s in self.rnn) if isinstance(self.rnn, tuple)
                     else self.rnn[:, index])
        lex = (None, None) if self.lex_index is None else (self.lex_index[index], self.lex_prob[index])
        embedded = None if self.embedded is None else self.embedded[index]
        coverage = None if self.coverage is None else self.coverage[index]
        bonus = None if self.bonus is None else self.bonus.select(index)
        return DecoderState(rnn_state, self.feed[index], self.keys[index], self.projected[index],
                            self.pad[index], *lex, embedded, coverage, bonus)

    def advance(self, rnn_state, feed: Tensor, a: Tensor) -> "DecoderState":
        """The state after one step with attention ``a`` ``(N, S)``: new decoder state and
        attentional vector (and coverage), same source."""
        coverage = None if self.coverage is None else self.coverage + a
        return DecoderState(rnn_state, feed, self.keys, self.projected, self.pad,
                            self.lex_index, self.lex_prob, self.embedded, coverage, self.bonus)


class Seq2SeqNet(nn.Module):
    def __init__(self, *, source_vocab: int, target_vocab: int, embedding_dim: int = 128,
                 cell: str = "gru", hidden_size: int = 256, num_layers: int = 1,
                 attention: str = "luong", attention_size: int = 128, dropout: float = 0.0,
                 lexicon_top_k: int = 0, lexical_model: bool = False, coverage: bool = False,
                 tie_embeddings: bool = False) -> None:
        super().__init__()
        H, E = hidden_size, embedding_dim
        self.cell, self.num_layers, self.hidden_size = cell, num_layers, H
        between = dropout if num_layers > 1 else 0.0
        self.source_embedding = nn.Embedding(source_vocab, E, padding_idx=PAD_ID)
        self.target_embedding = nn.Embedding(target_vocab, E, padding_idx=PAD_ID)
        self.encoder = CELLS[cell](E, H // 2, num_layers=num_layers, batch_first=True,
                                   dropout=between, bidirectional=True)
        self.bridge = nn.Linear(H, H)  # [h_fwd ; h_bwd] -> decoder h_0 (and c_0 for LSTM)
        self.bridge_c = nn.Linear(H, H) if cell == "lstm" else None
        self.decoder = CELLS[cell](E + H, H, num_layers=num_layers, batch_first=True, dropout=between)
        for layer in (self.encoder, self.decoder):
            layer.validate_inputs = False  # embeddings are finite; skip the NaN scan
        self.attention = make_attention(attention, H, H, attention_size, coverage)
        self.coverage = coverage
        self.combine = nn.Linear(2 * H, H, bias=False)  # W_c
        self.drop = nn.Dropout(dropout)
        self.target_vocab = target_vocab
        if tie_embeddings:  # W_o = Embed_y.weight P
            self.out, self.out_projection = None, nn.Linear(H, E, bias=False)  # P
            self.out_bias = nn.Parameter(torch.zeros(target_vocab))  # b_o
        else:
            self.out = nn.Linear(H, target_vocab)  # W_o, b_o
        self.lexical = nn.Linear(E, E, bias=False) if lexical_model else None  # W_h
        self.lexical_out = nn.Linear(E, target_vocab) if lexical_model else None  # W_l, b_l
        self.lexicon_top_k = lexicon_top_k
        if lexicon_top_k:  # filled by set_lexicon (fit) or load_state_dict (a saved model)
            self.register_buffer("lex_index", torch.zeros(source_vocab, lexicon_top_k, dtype=torch.long))
            self.register_buffer("lex_prob", torch.zeros(source_vocab, lexicon_top_k))

    def set_lexicon(self, index: Tensor, prob: Tensor) -> None:
        """The lexicon ``(V_x, K)`` target ids and probabilities (see the module doc)."""
        if not self.lexicon_top_k or index.shape != self.lex_index.shape:
            raise ValueError(f"lexicon of shape {tuple(index.shape)} for a network with "
                             f"lexicon_top_k={self.lexicon_top_k}")
        self.lex_index.copy_(index)
        self.lex_prob.copy_(prob)

    # ---- encoder ------------------------------------------------------------------------------
    def encode(self, src: Tensor, lengths: Tensor) -> DecoderState:
        """Source ids ``(N, S)`` padded with 0 and ``lengths`` ``(N,)`` -> the state before
        the first decoding step."""
        e = self.drop(self.source_embedding(src))  # (N, S, E)
        keys, final = self.encoder(e, lengths=lengths.cpu())  # (N, S, H), (2*layers, N, H/2)
        N, S = src.shape
        pad = padding_mask(lengths.to(src.device), S)  # (N, S)
        if self.cell == "lstm":
            h, c = final
            state = (torch.tanh(self.bridge(self._join(h))), self.bridge_c(self._join(c)))
        else:
            state = torch.tanh(self.bridge(self._join(final)))  # (layers, N, H)
        feed = keys.new_zeros(N, self.hidden_size)  # (N, H)
        lex = (None, None)
        if self.lexicon_top_k:
            prob = self.lex_prob[src].masked_fill(pad[:, :, None], 0.0)  # (N, S, K)
            lex = (self.lex_index[src].reshape(N, -1), prob)  # (N, S*K), (N, S, K)
        embedded = e if self.lexical is not None else None
        coverage = keys.new_zeros(N, S) if self.coverage else None  # C_0 = 0
        return DecoderState(state, feed, keys, self.attention.prepare(keys), pad, *lex, embedded,
                            coverage)

    def _join(self, h: Tensor) -> Tensor:
        """``(layers * 2, N, H/2)`` (directions inner) -> ``(layers, N, H)``: the forward and
        backward final states of each layer side by side."""
        L2, N, half = h.shape
        h = h.view(L2 // 2, 2, N, half)  # (layers, 2, N, H/2)
        return torch.cat([h[:, 0], h[:, 1]], dim=-1)  # (layers, N, H)

    # ---- decoder ------------------------------------------------------------------------------
    def step(self, prev: Tensor, state: DecoderState) -> tuple[Tensor, DecoderState, Tensor]:
        """One decoding step: previous tokens ``(N,)`` -> logits ``(N, V_y)``, the next
        state and the attention weights ``(N, S)``."""
        feed, rnn_state, a = self._attend(self.target_embedding(prev), state)
        logits = self._logits(self.drop(feed)[:, None], a[:, None], state)[:, 0]  # (N, V_y)
        return logits, state.advance(rnn_state, feed, a), a

    def _attend(self, embedded: Tensor, state: DecoderState) -> tuple[Tensor, object, Tensor]:
        """The recurrent part of a step: the previous tokens' embeddings ``(N, E)`` -> the
        attentional vector ``f_t`` ``(N, H)``, the decoder state and ``a_t`` ``(N, S)``."""
        x = torch.cat([self.drop(embedded), state.feed], dim=-1)  # (N, E+H)
        h, rnn_state = self.decoder(x[:, None, :], state.rnn)  # (N, 1, H)
        h = h[:, 0]  # (N, H)
        c, a = self.attention(h, state.keys, state.projected, state.pad, state.coverage)  # (N, H), (N, S)
        feed = torch.tanh(self.combine(torch.cat([c, h], dim=-1)))  # (N, H)
        return feed, rnn_state, a

    def _logits(self, feed: Tensor, a: Tensor, state: DecoderState) -> Tensor:
        """The output part of ``T`` steps at once: attentional vectors ``(N, T, H)`` (dropout
        applied) and attention ``(N, T, S)`` -> logits ``(N, T, V_y)``. Nothing here feeds
        the next step, so teacher forcing computes it once for the whole target."""
        if self.out is None:  # tied: Embed_y.weight P f + b_o
            logits = F.linear(self.out_projection(feed), self.target_embedding.weight, self.out_bias)
        else:
            logits = self.out(feed)  # (N, T, V_y)
        if self.lexical is not None:
            l_t = torch.tanh(torch.bmm(a, state.embedded))  # (N, T, E)
            logits = logits + self.lexical_out(torch.tanh(self.lexical(l_t)) + l_t)
        if state.lex_index is not None:
            logits = logits + torch.log(self.lexicon_probability(a, state) + LEXICON_EPS)
        return logits

    def lexicon_probability(self, a: Tensor, state: DecoderState) -> Tensor:
        """``p_lex_t(e) = sum_s a_t(s) lex(e | x_s)`` ``(N, T, V_y)`` for the attention ``a``
        ``(N, T, S)`` of ``T`` steps over the sources of ``state`` (which must carry the
        lexicon rows)."""
        N, T, _ = a.shape
        weight = (a[..., None] * state.lex_prob[:, None]).reshape(N, T, -1)  # (N, T, S*K)
        index = state.lex_index[:, None, :].expand(N, T, -1)  # (N, T, S*K)
        return a.new_zeros(N, T, self.target_vocab).scatter_add(2, index, weight)

    def forward(self, src: Tensor, lengths: Tensor, target_in: Tensor,
                return_attention: bool = False):
        """Teacher forcing: ``target_in`` ``(N, T)`` = ``<bos> y_1 .. y_{T-1}`` (padded) ->
        logits ``(N, T, V_y)`` for ``y_1 .. y_T`` (and the weights ``(N, T, S)``).

        The same numbers as :meth:`step` run ``T`` times, and the same dropout draws in the
        same order, but the target is embedded once and the output layers run once over all
        steps (1.2 to 1.6 times faster per training batch on CPU; docs/seq2seq.md)."""
        state = self.encode(src, lengths)
        embedded = self.target_embedding(target_in)  # (N, T, E)
        feeds, weights = [], []
        for t in range(target_in.shape[1]):
            feed, rnn_state, a = self._attend(embedded[:, t], state)
            feeds.append(self.drop(feed))
            weights.append(a)
            state = state.advance(rnn_state, feed, a)
        a = torch.stack(weights, dim=1)  # (N, T, S)
        out = self._logits(torch.stack(feeds, dim=1), a, state)  # (N, T, V_y)
        return (out, a) if return_attention else out
