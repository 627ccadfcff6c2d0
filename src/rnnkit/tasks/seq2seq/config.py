"""The sequence-to-sequence model's settings: one dataclass, a default and a comment each.

The CLI reads the same fields from the ``[model]``/``[train]`` tables of a TOML config.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import ClassVar

from rnnkit.data.text.encoder import OVERLONG
from rnnkit import settings
from rnnkit.data.text.tokenizers import KINDS
from rnnkit.errors import ConfigError, problem, unknown_name
from rnnkit.settings import StrictSettings

CELLS = ("lstm", "gru")
ATTENTIONS = ("bahdanau", "luong")
LENGTH_PENALTIES = ("gnmt", "length", "none")
UNKNOWN_SOURCES = ("attention", "unknown_first")
WHO = "Seq2Seq"


@dataclass
class Seq2SeqConfig(StrictSettings):

    SETTING: ClassVar[str] = f"{WHO} setting"
    # -- text -> ids (one tokenizer and vocabulary for sources, one for targets)
    tokenizer: str = "word"  # "word", "char" or "bpe" (for both sides)
    lowercase_source: bool = True  # lowercase the source before tokenizing
    lowercase_target: bool = False  # keep the target's case, so outputs read as text
    bpe_vocab_size: int = 8000  # symbols BPE learns per side (tokenizer="bpe" only)
    min_freq: int = 2  # a token needs this many training occurrences to get its own id
    target_min_freq: int | None = None  # the same for target tokens; None = min_freq. Rarer
    #   targets become <unk>, which the decoder learns to write and replace_unknown fills in
    max_vocab: int | None = 20000  # most ids per side (reserved ones included); None = no cap
    max_source_length: int | None = 60  # source tokens; None = no limit
    max_target_length: int = 60  # target tokens in training; also the decoding cap
    overlong: str = "truncate"  # a longer source: "truncate" (warn) or "error"
    # -- network
    cell: str = "gru"  # "lstm" or "gru" for encoder and decoder
    embedding_dim: int = 128  # source and target embedding width E
    hidden_size: int = 256  # decoder width H; the encoder has H // 2 per direction
    num_layers: int = 1  # stacked layers in encoder and decoder
    attention: str = "luong"  # "bahdanau" (additive) or "luong" (general, multiplicative)
    attention_size: int = 128  # width A of the additive attention (bahdanau only)
    dropout: float = 0.2  # dropout on embeddings, between layers and on the attentional vector
    lexicon_top_k: int = 0  # > 0: bias the decoder with an IBM-1 lexicon of the training pairs
    #                         keeping this many translations per source token (0 = off)
    lexical_model: bool = False  # a feed-forward path from the attended source embeddings to
    #                              the output (Nguyen & Chiang 2018)
    tie_embeddings: bool = False  # the output layer scores the target embeddings (Press & Wolf
    #                               2017): one vector per target word for reading and writing
    coverage: bool = False  # the attention also sees each source token's attention so far
    #                         (Tu et al. 2016), to move on from translated words
    # -- decoding
    beam: int = 5  # default beam width of translate(); 1 = greedy
    length_penalty: str = "gnmt"  # "gnmt": ((5+|y|)/6)^alpha, "length": |y|^alpha, "none"
    alpha: float = 0.6  # length-normalisation strength (0 = raw log-probability)
    coverage_penalty: float = 0.0  # beta of beam search's coverage penalty (Wu et al. 2016): a
    #                                hypothesis that leaves source words unattended ranks lower
    no_repeat_ngram_size: int = 0  # > 0: no n-gram of this size twice in an output (fairseq's
    #                                --no-repeat-ngram-size); 0 = off
    length_ratio: float = 2.0  # decode at most length_ratio * |x| + 10 tokens (and max_target_length)
    lexicon_bonus: float = 0.0  # beta > 0: until the output writes it, the lexicon's best
    #   translation e of each source token (probability >= lexicon_bonus_min_prob; a word or
    #   <unk>) gets beta * -ln pi(e) on its logit, pi the training targets' unigram frequency:
    #   soft lexical constraints (needs lexicon_top_k > 0; 0 = off; see seq2seq/bonus.py)
    lexicon_bonus_min_prob: float = 0.2  # the lexicon probability a translation needs for the bonus
    replace_unknown: bool = True  # an output <unk> becomes a source word (or its dictionary entry)
    unknown_source: str = "unknown_first"  # which: "attention" (the most attended source word) or
    #   "unknown_first" (the most attended one the source vocabulary lacks and no earlier <unk>
    #   took; else the most attended word)
    decompound: bool = False  # German sources: a source word the dictionary lacks fills an <unk>
    #   with the translation of its stem (qualifiziertes -> qualified) or of the two dictionary
    #   words it joins (Erfolgsgeschichte = Erfolg + s + Geschichte -> success story) before
    #   being copied (see WordByWord.decompose)
    # -- training
    epochs: int = 10  # upper bound; early stopping usually ends sooner
    batch_size: int = 64
    lr: float = 2e-3
    grad_clip_norm: float = 1.0
    ema_decay: float | None = None  # evaluate, keep and return a moving average of the
    #                                 weights with this decay (e.g. 0.999); None = off
    label_smoothing: float = 0.0  # cross-entropy label smoothing
    word_dropout: float = 0.0  # share of source and decoder-input tokens turned to <unk> in training
    guided_alignment: float = 0.0  # weight of the attention loss towards the lexicon's alignment
    #                                (needs lexicon_top_k > 0; 0 = off)
    coverage_loss: float = 0.0  # weight of See et al. (2017)'s penalty on attending a source
    #                             token again: sum_s min(a_t(s), coverage_{t-1}(s)) (0 = off)
    patience: int = 2  # early-stopping patience in epochs on the validation loss
    val_fraction: float = 0.05  # share of the training pairs held out for early stopping
    seed: int = 0
    device: str = "auto"
    progress: str = "none"  # "auto", "bar", "plain" or "none"

    def validate(self) -> None:
        settings.check_ema_decay(self.ema_decay, who=WHO)
        for name, choices in (("tokenizer", KINDS), ("cell", CELLS), ("overlong", OVERLONG),
                              ("attention", ATTENTIONS), ("length_penalty", LENGTH_PENALTIES),
                              ("unknown_source", UNKNOWN_SOURCES)):
            if getattr(self, name) not in choices:
                raise ConfigError(unknown_name(f"{WHO} {name}", str(getattr(self, name)), choices))
        for name in ("bpe_vocab_size", "min_freq", "max_target_length", "embedding_dim",
                     "num_layers", "attention_size", "beam", "epochs", "batch_size"):
            check_int(name, getattr(self, name), low=1)
        for name, low in (("max_vocab", 5), ("max_source_length", 1), ("target_min_freq", 1)):
            if getattr(self, name) is not None:
                check_int(name, getattr(self, name), low=low, optional=True)
        check_int("hidden_size", self.hidden_size, low=2)
        if self.hidden_size % 2:
            raise ConfigError(problem(f"{WHO}: hidden_size", expected="an even number (the "
                                      "bidirectional encoder has hidden_size // 2 per direction)",
                                      got=self.hidden_size, fix=f"use {self.hidden_size + 1}"))
        check_int("patience", self.patience, low=0)
        check_int("lexicon_top_k", self.lexicon_top_k, low=0)
        check_int("no_repeat_ngram_size", self.no_repeat_ngram_size, low=0)
        check_int("seed", self.seed, low=0)
        for name in ("lowercase_source", "lowercase_target", "replace_unknown", "lexical_model",
                     "coverage", "tie_embeddings", "decompound"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(problem(f"{WHO}: {name}", expected="True or False",
                                          got=repr(getattr(self, name))))
        _check_share("dropout", self.dropout, 0.0, 1.0)
        _check_share("label_smoothing", self.label_smoothing, 0.0, 1.0)
        _check_share("word_dropout", self.word_dropout, 0.0, 1.0)
        if not number(self.lexicon_bonus_min_prob) or not 0 <= self.lexicon_bonus_min_prob <= 1:
            raise ConfigError(problem(f"{WHO}: lexicon_bonus_min_prob", expected="a number in [0, 1]",
                                      got=repr(self.lexicon_bonus_min_prob)))
        _check_share("val_fraction", self.val_fraction, 0.0, 0.5,
                     fix="use 0 to train on everything without early stopping")
        for name in ("lr", "grad_clip_norm", "length_ratio"):
            if not number(getattr(self, name)) or getattr(self, name) <= 0:
                raise ConfigError(problem(f"{WHO}: {name}", expected="a number > 0",
                                          got=repr(getattr(self, name))))
        for name in ("alpha", "coverage_penalty", "guided_alignment", "coverage_loss", "lexicon_bonus"):
            if not number(getattr(self, name)) or getattr(self, name) < 0:
                raise ConfigError(problem(f"{WHO}: {name}", expected="a number >= 0",
                                          got=repr(getattr(self, name))))
        if self.guided_alignment and not self.lexicon_top_k:
            raise ConfigError(problem(f"{WHO}: guided_alignment", expected="lexicon_top_k > 0 (the "
                                      "alignment targets come from the IBM-1 lexicon)",
                                      got=f"guided_alignment={self.guided_alignment!r} with "
                                      "lexicon_top_k=0", fix="set lexicon_top_k, e.g. 8, or "
                                      "guided_alignment=0"))
        if self.lexicon_bonus and not self.lexicon_top_k:
            raise ConfigError(problem(f"{WHO}: lexicon_bonus", expected="lexicon_top_k > 0 (the bonus "
                                      "pushes the lexicon's translations)",
                                      got=f"lexicon_bonus={self.lexicon_bonus!r} with lexicon_top_k=0",
                                      fix="set lexicon_top_k, e.g. 8, or lexicon_bonus=0"))


number = settings.number
check_int = partial(settings.check_int, who=WHO)  # who= in a call still overrides it


def _check_share(name: str, value, low: float, high: float, fix: str | None = None) -> None:
    if not number(value) or not low <= value < high:
        raise ConfigError(problem(f"{WHO}: {name}", expected=f"a number in [{low:g}, {high:g})",
                                  got=repr(value), fix=fix))
