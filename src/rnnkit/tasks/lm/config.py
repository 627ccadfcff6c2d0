"""The language model's settings: one dataclass, a default and a comment for each field.

The defaults are a character model sized to train to a useful bits-per-character in a few
minutes on two CPU cores (one LSTM layer of 256 units over 64 parallel streams, chunks
of 50 steps); tests use far smaller ones. The CLI reads the same fields from TOML.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import ClassVar

from rnnkit import settings
from rnnkit.data.text.tokenizers import KINDS
from rnnkit.errors import ConfigError, problem, unknown_name
from rnnkit.settings import StrictSettings

CELLS = ("lstm", "gru")
WHO = "LanguageModel"


@dataclass
class LanguageModelConfig(StrictSettings):

    SETTING: ClassVar[str] = f"{WHO} setting"
    # -- text -> ids
    tokenizer: str = "char"  # "char", "word" (regex words) or "bpe" (subwords learned on the texts)
    lowercase: bool = False  # lowercase before tokenizing (a language model usually keeps case)
    bpe_vocab_size: int = 2000  # symbols BPE learns (tokenizer="bpe" only)
    min_freq: int = 2  # a token needs this many training occurrences to get its own id
    max_vocab: int | None = 20000  # most ids in all (reserved ones included); None = no cap
    max_prompt_tokens: int = 4096  # generate/stream read at most the last this many prompt tokens
    # -- network
    cell: str = "lstm"  # "lstm" or "gru"
    embedding_dim: int = 64  # token embedding width E
    hidden_size: int = 256  # recurrent width H
    num_layers: int = 1  # stacked recurrent layers
    dropout: float = 0.1  # on the embeddings, between layers and before the softmax head
    layer_norm: bool = False  # layer-normalised cells (rnnkit.nn extra; slower on CPU)
    recurrent_dropout: float = 0.0  # variational dropout of h_{t-1} (rnnkit.nn extra)
    zoneout: float = 0.0  # zoneout probability of h (and c) (rnnkit.nn extra)
    tie_weights: bool = True  # share the embedding matrix with the softmax head (a projection
    #                           H -> E is added when hidden_size != embedding_dim)
    # -- training (truncated BPTT over one long stream)
    bptt: int = 50  # TBPTT chunk length k: backprop through at most k steps
    batch_size: int = 64  # parallel streams the corpus is cut into
    carry_state: bool = True  # carry the (detached) state from chunk to chunk; False resets it
    epochs: int = 10  # passes over the corpus; early stopping usually ends sooner
    max_steps: int | None = None  # stop after this many optimizer steps (a time budget)
    lr: float = 4e-3
    weight_decay: float = 0.0
    grad_clip_norm: float = 1.0  # clip the total gradient norm (exploding gradients)
    ema_decay: float | None = None  # evaluate, keep and return a moving average of the
    #                                 weights with this decay (e.g. 0.999); None = off
    patience: int = 2  # early-stopping patience in epochs on the validation bpc
    val_fraction: float = 0.05  # share of the training records held out for early stopping
    keep_train_texts: bool = True  # keep the training texts in the model file, so a loaded
    #                                model's evaluate() refits the n-gram baseline
    ngram_order: int = 5  # order of the smoothed character n-gram baseline
    seed: int = 0
    device: str = "auto"
    progress: str = "none"  # "auto", "bar", "plain" or "none"

    def validate(self) -> None:
        settings.check_ema_decay(self.ema_decay, who=WHO)
        for name, choices in (("tokenizer", KINDS), ("cell", CELLS)):
            if getattr(self, name) not in choices:
                raise ConfigError(unknown_name(f"{WHO} {name}", str(getattr(self, name)), choices))
        for name in ("bpe_vocab_size", "min_freq", "max_prompt_tokens", "embedding_dim",
                     "hidden_size", "num_layers", "bptt", "batch_size", "epochs", "ngram_order"):
            check_int(name, getattr(self, name), low=1)
        for name, low in (("max_vocab", 5), ("max_steps", 1)):
            if getattr(self, name) is not None:
                check_int(name, getattr(self, name), low=low, optional=True)
        check_int("patience", self.patience, low=0)
        check_int("seed", self.seed, low=0)
        for name in ("lowercase", "layer_norm", "tie_weights", "carry_state", "keep_train_texts"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(problem(f"{WHO}: {name}", expected="True or False",
                                          got=repr(getattr(self, name))))
        for name in ("dropout", "recurrent_dropout", "zoneout"):
            _check_share(name, getattr(self, name), 0.0, 1.0)
        _check_share("val_fraction", self.val_fraction, 0.0, 0.5,
                     fix="use 0 to train on everything without early stopping")
        for name in ("lr", "grad_clip_norm"):
            if not number(getattr(self, name)) or getattr(self, name) <= 0:
                raise ConfigError(problem(f"{WHO}: {name}", expected="a number > 0",
                                          got=repr(getattr(self, name))))
        if not number(self.weight_decay) or self.weight_decay < 0:
            raise ConfigError(problem(f"{WHO}: weight_decay", expected="a number >= 0",
                                      got=repr(self.weight_decay)))


number = settings.number
check_int = partial(settings.check_int, who=WHO)  # who= in a call still overrides it


def _check_share(name: str, value, low: float, high: float, fix: str | None = None) -> None:
    if not number(value) or not low <= value < high:
        raise ConfigError(problem(f"{WHO}: {name}", expected=f"a number in [{low:g}, {high:g})",
                                  got=repr(value), fix=fix))
