"""``Seq2Seq``: text -> text with a bidirectional encoder and an attentional decoder, for
translation and for chat.

>>> import rnnkit
>>> from rnnkit.tasks.seq2seq.datasets import ding_pairs
>>> de, en = ding_pairs("train")                          # Ding whole-sentence pairs
>>> mt = rnnkit.Seq2Seq(attention="luong", epochs=8).fit(de, en)
>>> mt.translate(["Ich bin müde."], beam=5)                # ['I am tired.']
>>> mt.evaluate(*ding_pairs("test")).table                 # BLEU / chrF: greedy, beam, baseline
>>> mt.plot_attention("Ich bin müde.", "attention.png")
>>> mt.save("de-en.rnnkit"); mt = rnnkit.load("de-en.rnnkit")

Chat is the same model trained on ``(context <sep> message -> reply)`` pairs
(:func:`~rnnkit.tasks.seq2seq.datasets.chitchat_pairs`); :meth:`Seq2Seq.reply` samples a
reply (temperature, top-k, top-p, seed) or searches one (``beam=``).

scikit-learn's contract: ``__init__`` stores; ``fit`` validates and returns ``self``;
learned state ends in ``_``; an unfitted model raises
:class:`~rnnkit.errors.NotFittedError`. Odd input, decided once: an empty text is a
:class:`~rnnkit.errors.DataError`; a text whose tokens are all unknown is translated (from
``<unk>`` alone) with one ``UserWarning`` per call; a source over ``max_source_length``
tokens is cut with a warning (``overlong="truncate"``) or refused (``overlong="error"``);
a training target over ``max_target_length`` tokens is cut with a warning.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from rnnkit.bundle import save_bundle
from rnnkit.data.bucketing import length_batches
from rnnkit.data.text.batches import pad_ids
from rnnkit.data.text.encoder import TextEncoder, warn_user
from rnnkit.data.text.tokenizers import WORD_PATTERN
from rnnkit.data.text.vocab import BOS_ID, EOS, EOS_ID, PAD_ID, UNK, UNK_ID
from rnnkit.errors import BundleError, ConfigError, DataError, NotFittedError, problem
from rnnkit.tasks.common.texts import as_texts
from rnnkit.settings import ConfigParams
from rnnkit.tasks.registry import register_task
from rnnkit.tasks.seq2seq import decoding
from rnnkit.tasks.seq2seq.baselines import NAME as BASELINE, WordByWord, is_word
from rnnkit.tasks.seq2seq.bonus import LexiconBonus
from rnnkit.tasks.sampling import check_sampling
from rnnkit.tasks.seq2seq.config import Seq2SeqConfig, check_int
from rnnkit.tasks.seq2seq.datasets import SEP
from rnnkit.tasks.seq2seq.encoding import encode, fit_encoder, tokens
from rnnkit.tasks.seq2seq.lexicon import ibm1_lexicon
from rnnkit.tasks.seq2seq.model import Seq2SeqNet
from rnnkit.tasks.seq2seq.plotting import save_attention
from rnnkit.tasks.seq2seq.training import split, total_nll, train_network
from rnnkit.train.devices import select_device

WHO = "Seq2Seq"
DECODE_BATCH = 64


@dataclass
class TranslationReport:
    """What :meth:`Seq2Seq.evaluate` returns: ``table`` (a row per system, columns ``bleu``
    and ``chrf``, sacreBLEU's corpus scores 0-100) and each system's ``outputs``."""

    table: pd.DataFrame
    outputs: dict[str, list[str]] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.table.round(2).to_string()


@register_task("seq2seq")
class Seq2Seq(ConfigParams):
    """Attentional encoder-decoder (see :class:`Seq2SeqConfig` for every setting and
    :mod:`rnnkit.tasks.seq2seq.model` for the network)."""

    def __init__(self, tokenizer: str = "word", cell: str = "gru", attention: str = "luong",
                 **settings) -> None:
        self.config = Seq2SeqConfig.from_dict(dict(tokenizer=tokenizer, cell=cell,
                                                   attention=attention, **settings))

    # ---- fitting ----------------------------------------------------------------------------
    def fit(self, sources, targets, *, dictionary: bool = True, out_dir=None,
            resume: bool = False) -> "Seq2Seq":
        """Train on pairs ``sources[i] -> targets[i]``; returns ``self``.

        ``dictionary`` also learns the word-by-word dictionary of the training pairs (the
        translation baseline of :meth:`evaluate`, and the replacement of an output
        ``<unk>``); chat models can skip it.
        """
        cfg = self.config
        cfg.validate()
        sources, targets = self._pairs(sources, targets, "fit")
        side = dict(tokenizer=cfg.tokenizer, bpe_vocab_size=cfg.bpe_vocab_size, min_freq=cfg.min_freq,
                    max_vocab=cfg.max_vocab, where=f"{WHO}.fit")
        source_enc = fit_encoder(sources, lowercase=cfg.lowercase_source, max_length=cfg.max_source_length,
                                 overlong=cfg.overlong, **side)
        if cfg.target_min_freq is not None:
            side["min_freq"] = cfg.target_min_freq
        target_enc = fit_encoder(targets, lowercase=cfg.lowercase_target, max_length=None,
                                 overlong="truncate", **side)
        x = encode(source_enc, sources, f"{WHO}.fit")
        y = self._targets(target_enc, targets, "fit")
        torch.manual_seed(cfg.seed)
        model = self._build(len(source_enc.vocab), len(target_enc.vocab))
        if cfg.lexicon_top_k:  # learned on the pairs the network trains on, not its validation
            fit_idx, _ = split(len(x), cfg.val_fraction, cfg.seed)
            model.set_lexicon(*ibm1_lexicon([x[i] for i in fit_idx], [y[i] for i in fit_idx],
                                            len(source_enc.vocab), top_k=cfg.lexicon_top_k))
        history = train_network(model, x, y, cfg, out_dir, resume)
        baseline = WordByWord().fit(sources, targets) if dictionary else None
        for stale in ("metrics_", "_bonus_cache"):
            self.__dict__.pop(stale, None)
        self.source_encoder_, self.target_encoder_ = source_enc, target_enc
        self.target_counts_ = target_counts(y, len(target_enc.vocab))
        self.model_, self.history_, self.dictionary_ = model.eval(), history, baseline
        self.input_stats_ = TextEncoder.stats(x)
        return self

    def _build(self, source_vocab: int, target_vocab: int) -> Seq2SeqNet:
        cfg = self.config
        return Seq2SeqNet(source_vocab=source_vocab, target_vocab=target_vocab,
                          embedding_dim=cfg.embedding_dim, cell=cfg.cell, hidden_size=cfg.hidden_size,
                          num_layers=cfg.num_layers, attention=cfg.attention,
                          attention_size=cfg.attention_size, dropout=cfg.dropout,
                          lexicon_top_k=cfg.lexicon_top_k, lexical_model=cfg.lexical_model,
                          coverage=cfg.coverage, tie_embeddings=cfg.tie_embeddings)

    def _pairs(self, sources, targets, method: str) -> tuple[list[str], list[str]]:
        where = f"{WHO}.{method}"
        sources = as_texts(sources, f"{where} sources")
        targets = as_texts(targets, f"{where} targets")
        if len(sources) != len(targets):
            raise DataError(problem(f"{where}: targets", expected=f"one per source ({len(sources)})",
                                    got=len(targets), fix="pass aligned lists of pairs"))
        return sources, targets

    def _targets(self, encoder: TextEncoder, targets: list[str], method: str) -> list[list[int]]:
        """Target ids, each cut to ``max_target_length`` tokens (with a warning)."""
        lists = tokens(encoder, targets, f"{WHO}.{method} targets", cut=False)
        limit = self.config.max_target_length
        long = sum(len(t) > limit for t in lists)
        if long:
            warn_user(f"{WHO}.{method}: {long} of {len(lists)} targets are longer than "
                      f"max_target_length={limit} tokens and keep only their first {limit}")
        return [encoder.vocab.encode(t[:limit]) for t in lists]

    # ---- decoding -----------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise NotFittedError(f"this {WHO} is not fitted yet: call fit(sources, targets) or load "
                                 "a saved model with rnnkit.load(path)")

    def _sources(self, texts, method: str) -> list[list[int]]:
        self._check_fitted()
        where = f"{WHO}.{method}"
        ids = encode(self.source_encoder_, as_texts(texts, where), where)
        unknown = [i for i, x in enumerate(ids) if all(t == UNK_ID for t in x)]
        if unknown:
            warn_user(f"{where}: {len(unknown)} of {len(ids)} texts (texts{unknown[:5]}) have no "
                      "token in the vocabulary; their outputs rest on <unk> alone (check the "
                      "language and the tokenizer)")
        return ids

    def _max_len(self, source_length: int, max_length: int | None) -> int:
        cfg = self.config
        cap = cfg.max_target_length + 1 if max_length is None else max_length
        return max(1, min(cap, int(math.ceil(cfg.length_ratio * source_length)) + 10))

    def _step_fn(self, chat: bool = False):
        """``step_fn`` for :mod:`decoding`: log-probabilities with ``<pad>`` and ``<bos>`` ruled
        out; for chat also ``<unk>``, and ``<eos>`` as the first token (no empty reply); with
        the lexicon bonus on, the pending lexicon words pushed (:mod:`.bonus`)."""
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

    def _encode_batch(self, ids: list[list[int]]):
        device = next(self.model_.parameters()).device
        src, lengths = pad_ids(ids)  # (B, S), (B,)
        src = src.to(device)
        state = self.model_.encode(src, lengths.to(device))
        cfg = self.config
        if cfg.lexicon_bonus:
            surprisal, eligible = self._bonus_tables(device)
            state.bonus = LexiconBonus.start(src, self.model_.lex_index, self.model_.lex_prob, surprisal,
                                             eligible, cfg.lexicon_bonus, cfg.lexicon_bonus_min_prob)
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

    @torch.no_grad()
    def _decode(self, ids: list[list[int]], beam: int, alpha: float, kind: str,
                max_length: int | None = None, chat: bool = False,
                no_repeat: int | None = None) -> list[decoding.Hypothesis]:
        """One hypothesis per source: greedy (``beam=1``) or beam search, sources of similar
        length batched together; ``no_repeat`` (default: the config's) bans repeated n-grams."""
        self.model_.eval()
        no_repeat = self.config.no_repeat_ngram_size if no_repeat is None else no_repeat
        step = self._step_fn(chat)
        out: list[decoding.Hypothesis | None] = [None] * len(ids)
        for idx in length_batches([len(s) for s in ids], DECODE_BATCH, shuffle=False):
            state, device = self._encode_batch([ids[i] for i in idx])
            limits = [self._max_len(len(ids[i]), max_length) for i in idx]
            hyps = decoding.beam_search_batch(step, state, len(idx), beam, limits, alpha=alpha, kind=kind,
                                              beta=self.config.coverage_penalty, device=device,
                                              source_lengths=[len(ids[i]) for i in idx],
                                              no_repeat=no_repeat)
            for i, h in zip(idx, hyps):
                out[i] = h
        return out

    def _no_repeat(self, n, method: str) -> int:
        n = self.config.no_repeat_ngram_size if n is None else n
        check_int("no_repeat_ngram_size", n, low=0, who=f"{WHO}.{method}")
        return n

    def _settings(self, beam, alpha, method: str) -> tuple[int, float]:
        beam = self.config.beam if beam is None else beam
        alpha = self.config.alpha if alpha is None else alpha
        check_int("beam", beam, low=1, who=f"{WHO}.{method}")
        if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or not alpha >= 0:
            raise ConfigError(problem(f"{WHO}.{method}: alpha", expected="a number >= 0", got=repr(alpha)))
        return beam, float(alpha)

    def translate(self, texts, beam: int | None = None, alpha: float | None = None,
                  max_length: int | None = None, no_repeat_ngram_size: int | None = None) -> list[str]:
        """The output text of each source: greedy for ``beam=1``, else beam search of that
        width with length normalisation ``alpha``; ``no_repeat_ngram_size=n`` keeps any
        n-gram from appearing twice in an output (defaults from the config)."""
        beam, alpha = self._settings(beam, alpha, "translate")
        no_repeat = self._no_repeat(no_repeat_ngram_size, "translate")
        texts = as_texts(texts, f"{WHO}.translate")
        hyps = self._decode(self._sources(texts, "translate"), beam, alpha, self.config.length_penalty,
                            max_length, no_repeat=no_repeat)
        return [self._text(h, t) for h, t in zip(hyps, texts)]

    predict = translate

    def _text(self, h: decoding.Hypothesis, source: str) -> str:
        return self.target_encoder_.tokenizer.detokenize(self._words(h, source))

    def _words(self, h: decoding.Hypothesis, source: str) -> list[str]:
        """Output tokens, an ``<unk>`` replaced (``replace_unknown``) by the dictionary
        translation of the most attended source word (or that word itself); punctuation
        and ``<sep>`` are never chosen."""
        words = self.target_encoder_.vocab.decode(h.tokens)
        if not (self.config.replace_unknown and UNK in words and h.attention):
            return words
        src, unknown = self._source_words(source)
        word_mask = np.array([is_word(w) for w in src], dtype=bool)
        first = self.config.unknown_source == "unknown_first"
        taken: list[int] = []
        for t, w in enumerate(words):
            if w == UNK and t < len(h.attention):
                weights = np.asarray(h.attention[t], dtype=float)[: len(src)]
                n = len(weights)
                s = (self._unknown_first(weights, word_mask[:n], unknown[:n], taken) if first
                     else self._unknown_source(weights, word_mask[:n], taken))
                if s is not None:
                    taken.append(s)
                    words[t] = self._fill(src[s])
        return words

    def _fill(self, word: str) -> str:
        """What an output ``<unk>`` filled from the source word ``word`` becomes: its dictionary
        translation, else (``decompound``) that of its stem or its parts, else the word itself."""
        d = self.dictionary_
        if d is None:
            return word
        if word.lower() in d.lexicon:
            return d.lexicon[word.lower()]
        return (self.config.decompound and d.decompose(word)) or word

    @staticmethod
    def _unknown_source(weights: np.ndarray, is_word: np.ndarray, taken: list[int]) -> int | None:
        """The source position an output ``<unk>`` is filled from: the most attended word
        (None if the source has no word). ``taken``, the positions earlier ``<unk>`` of the
        output used, is not consulted: a rule that avoids them lost greedy BLEU on the dev
        split (docs/seq2seq.md; ``benchmarks/seq2seq_probes.py unk-distinct``)."""
        if not is_word.any():
            return None
        return int(np.argmax(np.where(is_word, weights, -np.inf)))

    @staticmethod
    def _unknown_first(weights: np.ndarray, is_word: np.ndarray, unknown: np.ndarray,
                       taken: list[int]) -> int | None:
        """``unknown_source="unknown_first"``: the most attended source word that the source
        vocabulary lacks (a rare word is most likely what a rare output word translates) and
        that no earlier ``<unk>`` took; without one, the most attended word."""
        fresh = unknown & is_word
        fresh[[i for i in taken if i < len(fresh)]] = False
        return Seq2Seq._unknown_source(weights, fresh if fresh.any() else is_word, taken)

    def _source_words(self, source: str) -> tuple[list[str], np.ndarray]:
        """The source tokens as the model read them, in their original case where the
        word tokenizer allows it, and which of them the source vocabulary lacks."""
        read = tokens(self.source_encoder_, [source], f"{WHO}.translate")[0]
        unknown = np.array([t not in self.source_encoder_.vocab for t in read], dtype=bool)
        if self.source_encoder_.tokenizer.kind == "word" and SEP not in source:
            cased = re.findall(WORD_PATTERN, source)
            if len(cased) >= len(read):
                return cased[: len(read)], unknown
        return read, unknown

    # ---- attention --------------------------------------------------------------------------
    def attention(self, text: str, beam: int = 1) -> tuple[list[str], list[str], np.ndarray]:
        """``(source tokens, output tokens, weights (T, S))`` of one translation: row ``t``
        is the attention of output token ``t`` (``<eos>`` last when reached) over the
        source tokens, and sums to 1."""
        self._check_fitted()
        if not isinstance(text, str):
            raise DataError(problem(f"{WHO}.attention: text", expected="one str",
                                    got=type(text).__name__, fix="call it once per text"))
        beam, alpha = self._settings(beam, None, "attention")
        ids = self._sources([text], "attention")
        h = self._decode(ids, beam, alpha, self.config.length_penalty)[0]
        source = tokens(self.source_encoder_, [text], f"{WHO}.attention")[0]
        target = self.target_encoder_.vocab.decode(h.tokens) + ([EOS] if h.finished else [])
        weights = np.asarray(h.attention, dtype=np.float64).reshape(len(target), len(source))
        return source, target, weights

    def plot_attention(self, text: str, path, beam: int = 1) -> tuple[list[str], list[str], np.ndarray]:
        """Write the attention heat-map of ``text``'s translation to ``path`` (PNG) and
        return what :meth:`attention` returns."""
        source, target, weights = self.attention(text, beam)
        save_attention(source, target, weights, path)
        return source, target, weights

    # ---- evaluating -------------------------------------------------------------------------
    def evaluate(self, sources, targets, *, beam: int | None = None, alpha: float | None = None,
                 baselines=(BASELINE,)) -> TranslationReport:
        """sacreBLEU and chrF on ``(sources, targets)`` of greedy decoding, beam search
        (width ``beam``, default the config's) and the word-by-word baseline."""
        import sacrebleu

        beam, alpha = self._settings(beam, alpha, "evaluate")
        sources, targets = self._pairs(sources, targets, "evaluate")
        ids = self._sources(sources, "evaluate")
        kind = self.config.length_penalty
        outputs = {"rnnkit greedy": [self._text(h, s) for h, s in zip(self._decode(ids, 1, alpha, kind), sources)]}
        if beam > 1:
            hyps = self._decode(ids, beam, alpha, kind)
            outputs[f"rnnkit beam {beam}"] = [self._text(h, s) for h, s in zip(hyps, sources)]
        for name in baselines:
            if name != BASELINE:
                raise ConfigError(problem(f"{WHO}.evaluate: baseline", expected=repr(BASELINE), got=repr(name)))
            if self.dictionary_ is None:
                raise ConfigError(problem(f"{WHO}.evaluate: baseline {BASELINE!r}", expected="a model "
                                          "fitted with dictionary=True", got="none learned",
                                          fix="pass baselines=()"))
            outputs[BASELINE] = self.dictionary_.translate(sources)
        table = pd.DataFrame(
            {name: {"bleu": sacrebleu.corpus_bleu(out, [targets], force=True).score,
                    "chrf": sacrebleu.corpus_chrf(out, [targets]).score}
             for name, out in outputs.items()}).T
        table.index.name = "system"
        self.metrics_ = table.to_dict(orient="index")
        return TranslationReport(table, outputs)

    def score(self, sources, targets) -> float:
        """Corpus BLEU of greedy decoding."""
        return float(self.evaluate(sources, targets, beam=1, baselines=()).table.iloc[0]["bleu"])

    def perplexity(self, sources, targets) -> float:
        """``exp`` of the mean negative log-likelihood per target token (``<eos>`` included)
        of the references given their sources, with teacher forcing."""
        sources, targets = self._pairs(sources, targets, "perplexity")
        x = self._sources(sources, "perplexity")
        y = self._targets(self.target_encoder_, targets, "perplexity")
        total, count = total_nll(self.model_, x, y)
        return math.exp(total / count)

    # ---- chat -------------------------------------------------------------------------------
    def reply(self, message: str, context: str | None = None, *, temperature: float = 0.8,
              top_k: int | None = None, top_p: float | None = 0.9, seed: int | None = None,
              beam: int | None = None, max_length: int | None = None,
              no_repeat_ngram_size: int | None = None) -> str:
        """A reply to ``message`` (after the turn ``context``, if any): sampled (with
        ``temperature``, ``top_k``, ``top_p``, ``seed``; ``temperature=0`` is greedy) or,
        with ``beam=k``, searched by beam; ``no_repeat_ngram_size=n`` keeps any n-gram from
        appearing twice (default: the config's). A reply is never empty and never holds ``<unk>``."""
        self._check_fitted()
        for name, value in (("message", message), ("context", context)):
            if value is not None and not isinstance(value, str):
                raise DataError(problem(f"{WHO}.reply: {name}", expected="a str",
                                        got=type(value).__name__))
        check_sampling(temperature, top_k, top_p, seed, f"{WHO}.reply")
        no_repeat = self._no_repeat(no_repeat_ngram_size, "reply")
        source = f"{context} {SEP} {message}" if context and context.strip() else message
        ids = self._sources([source], "reply")
        if beam is not None:
            beam, alpha = self._settings(beam, None, "reply")
            h = self._decode(ids, beam, alpha, self.config.length_penalty, max_length, chat=True,
                             no_repeat=no_repeat)[0]
        else:
            state, device = self._encode_batch(ids)
            h = decoding.sample(self._step_fn(chat=True), state, 1,
                                self._max_len(len(ids[0]), max_length), temperature=temperature,
                                top_k=top_k, top_p=top_p, seed=seed, device=device,
                                no_repeat=no_repeat)[0]
        return self.target_encoder_.tokenizer.detokenize(self.target_encoder_.vocab.decode(h.tokens))

    # ---- persistence ------------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write the model file (``.rnnkit``): settings, both encoders, the word dictionary
        and the weights; no pickle."""
        self._check_fitted()
        tensors = {f"model.{k}": v for k, v in self.model_.state_dict().items()}
        if getattr(self, "target_counts_", None) is not None:
            tensors["target_counts"] = torch.as_tensor(self.target_counts_, dtype=torch.int64)
        preprocessing = {"source": self.source_encoder_.to_dict(),
                         "target": self.target_encoder_.to_dict(),
                         "dictionary": self.dictionary_.to_dict() if self.dictionary_ else None,
                         "input_stats": self.input_stats_}
        return save_bundle(path, task=self.task_name, config={"settings": self.config.to_dict()},
                           tensors=tensors, preprocessing=preprocessing,
                           metrics=getattr(self, "metrics_", {}))

    @classmethod
    def _from_bundle(cls, bundle) -> "Seq2Seq":
        self = cls(**bundle.config["settings"])
        pre = bundle.preprocessing
        self.source_encoder_ = TextEncoder.from_dict(pre["source"])
        self.target_encoder_ = TextEncoder.from_dict(pre["target"])
        self.dictionary_ = WordByWord.from_dict(pre["dictionary"]) if pre["dictionary"] else None
        self.input_stats_ = pre["input_stats"]
        weights = {k[len("model."):]: v for k, v in bundle.tensors.items() if k.startswith("model.")}
        self.model_ = self._build(len(self.source_encoder_.vocab), len(self.target_encoder_.vocab))
        self.model_.load_state_dict(weights)
        counts = bundle.tensors.get("target_counts")  # None in files saved before it was stored
        V = len(self.target_encoder_.vocab)
        if counts is not None and tuple(counts.shape) != (V,):
            raise BundleError(problem(f"{WHO} model file: target_counts", expected=f"shape ({V},), one "
                                      "count per target token", got=f"shape {tuple(counts.shape)}",
                                      fix="the file is damaged: save the model again or refit it"))
        self.target_counts_ = None if counts is None else np.asarray(counts, dtype=np.int64)
        self.model_.to(select_device(self.config.device)).eval()
        self.metrics_ = bundle.metrics
        return self


def target_counts(targets: list[list[int]], vocab_size: int) -> np.ndarray:
    """How often each target id occurs in the training targets ``(V,)``, ``<eos>`` once per
    target (the unigram frequencies of the lexicon bonus)."""
    counts = np.bincount(np.fromiter((i for t in targets for i in t), dtype=np.int64),
                         minlength=vocab_size)
    counts[EOS_ID] += len(targets)
    return counts
