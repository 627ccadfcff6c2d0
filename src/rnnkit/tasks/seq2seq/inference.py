"""How a fitted :class:`~rnnkit.Seq2Seq` decodes: source ids, the step function the search
calls, batched greedy / beam search, and output texts with ``<unk>`` filled.

:class:`Inference` is a mixin of the estimator (it reads the fitted ``model_``,
``source_encoder_``, ``target_encoder_``, ``dictionary_``, ``target_counts_`` and the
decoding settings ``config.decoding_settings``). The search itself is
:mod:`rnnkit.tasks.seq2seq.decoding`; the lexicon bonus :mod:`~rnnkit.tasks.seq2seq.bonus`;
the ``<unk>`` rules :mod:`~rnnkit.tasks.seq2seq.unknowns`.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

from rnnkit.data.bucketing import length_batches
from rnnkit.data.text.batches import pad_ids
from rnnkit.data.text.encoder import warn_user
from rnnkit.data.text.vocab import BOS_ID, EOS_ID, PAD_ID, UNK, UNK_ID
from rnnkit.errors import ConfigError, problem
from rnnkit.tasks.common.texts import as_texts
from rnnkit.tasks.core import Int, Real
from rnnkit.tasks.seq2seq import decoding, unknowns
from rnnkit.tasks.seq2seq.baselines import is_word
from rnnkit.tasks.seq2seq.bonus import LexiconBonus
from rnnkit.tasks.seq2seq.config import WHO
from rnnkit.tasks.seq2seq.features import encode

DECODE_BATCH = 64


class Inference:
    """The decoding calls of :class:`~rnnkit.Seq2Seq` (see the module doc)."""

    # ---- inputs -------------------------------------------------------------------------------
    def source_ids(self, texts, method: str = "translate") -> list[list[int]]:
        """The ids ``(S_i,)`` the encoder reads for each source text (tokenized, cut to
        ``max_source_length``), warning once for texts with no known token. ``method`` names
        the caller in messages. Raises NotFittedError on an unfitted model."""
        self.check_fitted()
        where = f"{WHO}.{method}"
        ids = encode(self.source_encoder_, as_texts(texts, where), where)
        unknown = [i for i, x in enumerate(ids) if all(t == UNK_ID for t in x)]
        if unknown:
            warn_user(f"{where}: {len(unknown)} of {len(ids)} texts (texts{unknown[:5]}) have no "
                      "token in the vocabulary; their outputs rest on <unk> alone (check the "
                      "language and the tokenizer)")
        return ids

    def max_output_length(self, source_length: int, max_length: int | None = None) -> int:
        """Most tokens an output of a ``source_length``-token source gets:
        ``min(cap, ceil(length_ratio * source_length) + 10)``, ``cap`` = ``max_length`` or
        ``max_target_length + 1`` (the ``<eos>``)."""
        cap = self.config.max_target_length + 1 if max_length is None else max_length
        ratio = self.config.decoding_settings.length_ratio
        return max(1, min(cap, int(math.ceil(ratio * source_length)) + 10))

    def _decoding_options(self, beam, alpha, method: str) -> tuple[int, float]:
        settings = self.config.decoding_settings
        beam = settings.beam if beam is None else beam
        alpha = settings.alpha if alpha is None else alpha
        Int(1)(f"{WHO}.{method}", "beam", beam)
        Real(0)(f"{WHO}.{method}", "alpha", alpha)
        return beam, float(alpha)

    def _no_repeat(self, n, method: str) -> int:
        n = self.config.decoding_settings.no_repeat_ngram_size if n is None else n
        Int(0)(f"{WHO}.{method}", "no_repeat_ngram_size", n)
        return n

    # ---- one decoder step ---------------------------------------------------------------------
    def step_fn(self, chat: bool = False):
        """The ``step(prev (B,), state) -> (log p (B, V), state, attention (B, S))`` that
        :mod:`~rnnkit.tasks.seq2seq.decoding` calls: the network's next-token log-probabilities
        with ``<pad>`` and ``<bos>`` ruled out; for chat also ``<unk>``, and ``<eos>`` as the
        first token (no empty reply); with the lexicon bonus on, the pending lexicon words
        pushed (:mod:`~rnnkit.tasks.seq2seq.bonus`)."""
        banned = [PAD_ID, BOS_ID] + ([UNK_ID] if chat else [])
        model = self.model_

        def step(prev, state):
            if state.bonus is not None:  # a new state: beam search reuses the one it passed
                state = dataclasses.replace(state, bonus=state.bonus.written(prev))
            logits, state, a = model.step(prev, state)  # (B, V), state, (B, S)
            if state.bonus is not None:
                logits = logits + state.bonus.logits(logits.shape[1])
            logits[:, banned] = float("-inf")
            if chat:
                logits[prev == BOS_ID, EOS_ID] = float("-inf")
            return torch.log_softmax(logits.float(), dim=-1), state, a

        return step

    def encode_batch(self, ids: list[list[int]]):
        """``(state, device)``: the decoder's start state for a batch of source ids (padded to
        ``(B, S)``), with the lexicon bonus attached when it is on."""
        device = next(self.model_.parameters()).device
        src, lengths = pad_ids(ids)  # (B, S), (B,)
        src = src.to(device)
        state = self.model_.encode(src, lengths.to(device))
        settings = self.config.decoding_settings
        if settings.lexicon_bonus:
            surprisal, eligible = self._bonus_tables(device)
            state.bonus = LexiconBonus.start(src, self.model_.lex_index, self.model_.lex_prob, surprisal,
                                             eligible, settings.lexicon_bonus, settings.lexicon_bonus_min_prob)
        return state, device

    def _bonus_tables(self, device) -> tuple[torch.Tensor, torch.Tensor]:
        """``(-ln pi(e), eligible)`` over the target ids for the lexicon bonus: ``pi`` the
        add-one unigram frequency of the training targets, ``eligible`` the words and
        ``<unk>`` (not punctuation)."""
        tables = self.__dict__.get("_bonus_cache")
        if tables is None:
            if getattr(self, "target_counts_", None) is None:
                raise ConfigError(problem(f"{WHO}: lexicon_bonus", expected="a model that knows how often "
                                          "each target token occurs in its training pairs",
                                          got="a model file saved before rnnkit stored those counts",
                                          fix="fit the model again, or set lexicon_bonus=0"))
            counts = torch.as_tensor(self.target_counts_, dtype=torch.float64) + 1.0
            surprisal = -torch.log(counts / counts.sum())
            words = self.target_encoder_.vocab.tokens
            eligible = torch.tensor([i == UNK_ID or is_word(w) for i, w in enumerate(words)])
            tables = self.__dict__["_bonus_cache"] = (surprisal, eligible)
        return tables[0].to(device), tables[1].to(device)

    # ---- search -------------------------------------------------------------------------------
    @torch.no_grad()
    def decode(self, ids: list[list[int]], beam: int, alpha: float, kind: str,
               max_length: int | None = None, chat: bool = False,
               no_repeat: int | None = None) -> list[decoding.Hypothesis]:
        """One hypothesis per source id list: greedy (``beam=1``) or beam search of width
        ``beam`` ranked with length penalty ``kind`` and strength ``alpha``; sources of
        similar length batched together; ``no_repeat`` (default: the setting) bans repeated
        n-grams."""
        self.model_.eval()
        settings = self.config.decoding_settings
        no_repeat = settings.no_repeat_ngram_size if no_repeat is None else no_repeat
        step = self.step_fn(chat)
        out: list[decoding.Hypothesis | None] = [None] * len(ids)
        for idx in length_batches([len(s) for s in ids], DECODE_BATCH, shuffle=False):
            state, device = self.encode_batch([ids[i] for i in idx])
            limits = [self.max_output_length(len(ids[i]), max_length) for i in idx]
            hyps = decoding.beam_search_batch(step, state, len(idx), beam, limits, alpha=alpha, kind=kind,
                                              beta=settings.coverage_penalty, device=device,
                                              source_lengths=[len(ids[i]) for i in idx],
                                              no_repeat=no_repeat)
            for i, h in zip(idx, hyps):
                out[i] = h
        return out

    # ---- outputs ------------------------------------------------------------------------------
    def output_text(self, h: decoding.Hypothesis, source: str) -> str:
        """The text of hypothesis ``h`` of ``source`` (:meth:`output_words`, detokenized)."""
        return self.target_encoder_.tokenizer.detokenize(self.output_words(h, source))

    def output_words(self, h: decoding.Hypothesis, source: str) -> list[str]:
        """The output tokens of ``h``, each ``<unk>`` replaced (``replace_unknown``) from the
        source word :meth:`unknown_position` picks (:mod:`~rnnkit.tasks.seq2seq.unknowns`)."""
        words = self.target_encoder_.vocab.decode(h.tokens)
        settings = self.config.decoding_settings
        if not (settings.replace_unknown and UNK in words and h.attention):
            return words
        src, unknown = unknowns.source_words(self.source_encoder_, source, f"{WHO}.translate")
        return unknowns.replace_unknowns(
            words, h.attention, src, unknown, self.unknown_position,
            lambda w: unknowns.fill_word(w, self.dictionary_, settings.decompound))

    def unknown_position(self, weights: np.ndarray, is_word: np.ndarray, unknown: np.ndarray,
                         taken: list[int]) -> int | None:
        """The source position an output ``<unk>`` is filled from, by the ``unknown_source``
        setting: ``weights`` its attention ``(S,)``, ``is_word`` / ``unknown`` which source
        tokens are words / unknown to the vocabulary ``(S,)``, ``taken`` the positions earlier
        ``<unk>`` used. None: no word to fill from."""
        if self.config.decoding_settings.unknown_source == "unknown_first":
            return unknowns.unknown_first(weights, is_word, unknown, taken)
        return unknowns.most_attended(weights, is_word, taken)
