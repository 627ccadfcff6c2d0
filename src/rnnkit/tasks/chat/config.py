"""The chat model's settings: one dataclass, a default and a comment for each field.

The training settings (epochs, lr, patience …) come from
:class:`~rnnkit.tasks.core.TrainSettings`; the CLI reads the same fields from the
``[model]``/``[train]`` tables of a TOML config. Every knob of the dual encoder, its
training and its reply bank is a setting, so a benchmark can tune it on a development split.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rnnkit.data.text.tokenizers import KINDS
from rnnkit.tasks.core import Choice, Flag, Int, Real, TrainSettings, setting
from rnnkit.tasks.core.limits import MAX_COUNT, MAX_LAYERS, MAX_TOKENS, MAX_VOCAB, MAX_WIDTH, bounded

CELLS = ("gru", "lstm")
POOLINGS = ("max", "mean")
MONITORS = ("recall@1", "loss")  # what early stopping watches on the held-out pairs
WHO = "ChatModel"


@dataclass
class ChatConfig(TrainSettings):

    WHO: ClassVar[str] = WHO
    # -- text -> ids (one vocabulary for contexts and replies: the embedding is shared)
    tokenizer: str = setting("word", Choice(*KINDS))  # "word", "char" or "bpe"
    lowercase: bool = setting(True, Flag())  # lowercase before tokenizing
    bpe_vocab_size: int = setting(8000, bounded(1, MAX_VOCAB))  # tokenizer="bpe" only
    min_freq: int = setting(2, Int(1))  # training occurrences a token needs for its own id
    max_vocab: int | None = setting(30000, bounded(6, MAX_VOCAB, optional=True))  # most ids
    #                                 in all (reserved ones and <sep> included); None = no cap
    context_turns: int = setting(1, bounded(0, 64))  # earlier turns kept before the message
    #                                 (the chitchat table's source holds one)
    max_context_tokens: int = setting(60, bounded(1, MAX_TOKENS))  # the context (turns,
    #                                 <sep> and message) keeps its LAST this many tokens
    max_reply_tokens: int = setting(30, bounded(1, MAX_TOKENS))  # a reply keeps its first
    #                                 this many tokens when encoded
    # -- network
    cell: str = setting("gru", Choice(*CELLS))  # the recurrent encoders: "gru" or "lstm"
    embedding_dim: int = setting(128, bounded(1, MAX_WIDTH))  # shared word embedding width
    hidden_size: int = setting(128, bounded(1, MAX_WIDTH))  # encoder width per direction
    num_layers: int = setting(1, bounded(1, MAX_LAYERS))  # stacked recurrent layers
    bidirectional: bool = setting(True, Flag())  # read each text both ways (~2.4x the time
    #                                 per step of one way)
    pooling: str = setting("mean", Choice(*POOLINGS))  # over time: "max" or "mean" of the states
    batch_norm: bool = setting(False, Flag())  # batch-normalise the projected vectors before
    #                                 the L2 norm (removes the direction all texts share)
    vector_size: int = setting(128, bounded(1, MAX_WIDTH))  # width of the context and reply
    #                                 vectors (the projection after pooling)
    dropout: float = setting(0.1, Real(0, 1, high_open=True))  # on embeddings and pooled states
    scale: float = setting(20.0, Real(1, 100))  # score = scale * cosine;
    #                                 the start value when learn_scale
    learn_scale: bool = setting(True, Flag())  # learn the scale (kept in [1, 100])
    symmetric: bool = setting(False, Flag())  # also the loss of picking the context of
    #                                 each reply among the batch's contexts
    monitor: str = setting("recall@1", Choice(*MONITORS))  # early stopping on the held-out
    #                                 pairs' Recall@1 of 10 (higher is better) or in-batch loss
    # -- reply bank (training replies, deduplicated and filtered)
    bank_min_words: int = setting(1, bounded(1, MAX_TOKENS))  # a bank reply has at least …
    bank_max_words: int = setting(25, bounded(1, MAX_TOKENS))  # … and at most this many words
    bank_max_unknown: float = setting(0.2, Real(0, 1))  # largest share of out-of-vocabulary words
    bank_size: int | None = setting(None, bounded(1, MAX_COUNT, optional=True))  # keep the
    #                                 most frequent this many; None = all that pass
    lexical_weight: float | None = setting(0.0, Real(0, 1000, optional=True))  # add this times the
    #                                 TF-IDF cosine of context and reply to the score (a sparse +
    #                                 dense hybrid, still one inner product); 0 = the dual encoder
    #                                 alone; None = chosen on the held-out pairs (settings_ says)
    max_echo: float | None = setting(0.6, Real(0, 1, optional=True))  # replies() skips a bank
    #                                 reply of 3+ words whose word overlap with the message or
    #                                 an earlier turn given (shared / all words of both) is above
    #                                 this: an echo of the conversation, which
    #                                 lexical scores favour; None = off. evaluate ranks every candidate
    rerank_weight: float = setting(1.0, Real(0))  # reranking: weight of the generator's mean
    #                                 log-probability per token against the retrieval log-softmax
    keep_tfidf: bool = setting(True, Flag())  # keep the TF-IDF baseline (vocabulary and idf)
    #                                 in the model file, for a loaded model's evaluate()
    # -- training (TrainSettings), this task's defaults
    epochs: int = 3  # ~5 min per epoch on 109k chitchat pairs on 2 cores
    batch_size: int = 64  # in-batch negatives: each pair sees batch_size - 1 of them (64 beat
    #                                 128 on the development split: more steps per epoch)
    lr: float = 2e-3
    patience: int = 2
    val_fraction: float = setting(0.05, Real(0, 0.5, high_open=True, fix="use 0 to train on "
                                             "everything without early stopping"))

    def check_combinations(self) -> None:
        if self.bank_min_words > self.bank_max_words:
            self.refuse("bank_min_words, bank_max_words", expected="bank_min_words <= bank_max_words",
                        got=f"{self.bank_min_words} > {self.bank_max_words}",
                        fix="raise bank_max_words or lower bank_min_words")
        if self.lexical_weight != 0 and not self.keep_tfidf:
            self.refuse("lexical_weight, keep_tfidf", expected="keep_tfidf=True unless lexical_weight=0 "
                        "(the score needs the TF-IDF vectors)", got=f"lexical_weight={self.lexical_weight}, "
                        "keep_tfidf=False", fix="set keep_tfidf=True, or lexical_weight=0")
        if self.lexical_weight is None and not self.val_fraction:
            self.refuse("lexical_weight, val_fraction", expected="val_fraction > 0 when lexical_weight=None "
                        "(it is chosen on the held-out pairs)", got="val_fraction=0",
                        fix="set val_fraction=0.05, or a number for lexical_weight")
        if self.batch_size < 2:
            self.refuse("batch_size", expected="at least 2 (the other replies of a batch are the "
                        "negatives)", got=self.batch_size, fix="use 64 or more")
