"""The language model's settings: one dataclass, a default and a comment for each field.

The defaults are a character model sized to train to a useful bits-per-character in a few
minutes on two CPU cores (one LSTM layer of 256 units over 64 parallel streams, chunks
of 50 steps); tests use far smaller ones. The training settings (epochs, lr, patience …)
come from :class:`~rnnkit.tasks.core.TrainSettings`; the CLI reads the same fields from TOML.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rnnkit.data.text.tokenizers import KINDS
from rnnkit.tasks.core import Choice, Flag, Int, Real, TrainSettings, setting
from rnnkit.tasks.core.limits import MAX_LAYERS, MAX_STEPS, MAX_TOKENS, MAX_VOCAB, MAX_WIDTH, bounded

CELLS = ("lstm", "gru")
WHO = "LanguageModel"
SHARE = Real(0, 1, high_open=True)  # dropout-like probabilities, [0, 1)


@dataclass
class LanguageModelConfig(TrainSettings):

    WHO: ClassVar[str] = WHO
    # -- text -> ids
    tokenizer: str = setting("char", Choice(*KINDS))  # "char", "word" (regex words) or "bpe"
    #                                 (subwords learned on the texts)
    lowercase: bool = setting(False, Flag())  # lowercase before tokenizing (a language model
    #                                 usually keeps case)
    bpe_vocab_size: int = setting(2000, bounded(1, MAX_VOCAB))  # symbols BPE learns (tokenizer="bpe" only)
    min_freq: int = setting(2, Int(1))  # a token needs this many training occurrences to get its own id
    max_vocab: int | None = setting(20000, bounded(5, MAX_VOCAB, optional=True))  # most ids in all (reserved
    #                                 ones included); None = no cap
    max_prompt_tokens: int = setting(4096, bounded(1, MAX_TOKENS))  # generate/stream read at most the last this
    #                                 many prompt tokens
    # -- network
    cell: str = setting("lstm", Choice(*CELLS))  # "lstm" or "gru"
    embedding_dim: int = setting(64, bounded(1, MAX_WIDTH))  # token embedding width E
    hidden_size: int = setting(256, bounded(1, MAX_WIDTH))  # recurrent width H
    num_layers: int = setting(1, bounded(1, MAX_LAYERS))  # stacked recurrent layers
    dropout: float = setting(0.1, SHARE)  # on the embeddings, between layers and before the head
    layer_norm: bool = setting(False, Flag())  # layer-normalised cells (rnnkit.nn extra; slower on CPU)
    recurrent_dropout: float = setting(0.0, SHARE)  # variational dropout of h_{t-1} (rnnkit.nn extra)
    zoneout: float = setting(0.0, SHARE)  # zoneout probability of h (and c) (rnnkit.nn extra)
    weight_drop: float = setting(0.0, SHARE)  # DropConnect on W_hh in training (rnnkit.nn extra,
    #                                 AWD-LSTM); inference runs the plain fused kernel
    embedding_dropout: float = setting(0.0, SHARE)  # drops whole vocabulary rows of the embedding
    #                                 per batch (a dropped word is zero wherever it occurs; AWD-LSTM)
    tie_weights: bool = setting(True, Flag())  # share the embedding matrix with the softmax head
    #                                 (a projection H -> E is added when hidden_size != embedding_dim)
    # -- truncated BPTT over one long stream
    bptt: int = setting(50, bounded(1, MAX_STEPS))  # TBPTT chunk length k: backprop through at most k steps
    carry_state: bool = setting(True, Flag())  # carry the (detached) state from chunk to chunk;
    #                                 False resets it
    keep_train_texts: bool = setting(True, Flag())  # keep the training texts in the model file,
    #                                 so a loaded model's evaluate() refits the n-gram baseline
    ngram_order: int = setting(5, bounded(1, 64))  # order of the smoothed character n-gram baseline
    # -- training (TrainSettings), this task's defaults
    batch_size: int = 64  # parallel streams the corpus is cut into
    lr: float = 4e-3
    patience: int = 2  # early-stopping patience in epochs on the validation bpc
    plateau_patience: int | None = 0  # the lr halves after every epoch without a better bpc
    val_fraction: float = setting(0.05, Real(0, 0.5, high_open=True, fix="use 0 to train on "
                                             "everything without early stopping"))  # share of
    #                                 the training records held out for early stopping
