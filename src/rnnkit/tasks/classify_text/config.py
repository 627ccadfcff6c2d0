"""The text classifier's settings: one dataclass, a default and a comment for each field.

The CLI reads the same fields from the ``[model]``/``[train]`` tables of a TOML config.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from rnnkit.data.text.encoder import OVERLONG
from rnnkit.data.text.tokenizers import KINDS
from rnnkit.errors import ConfigError, problem, unknown_name
from rnnkit import settings
from rnnkit.settings import StrictSettings

CELLS = ("lstm", "gru")
WHO = "TextClassifier"


@dataclass
class TextClassifierConfig(StrictSettings):

    SETTING: ClassVar[str] = f"{WHO} setting"
    # -- text -> ids
    tokenizer: str = "word"  # "word" (regex words), "char" or "bpe" (subwords learned on the texts)
    lowercase: bool = True  # lowercase before tokenizing
    bpe_vocab_size: int = 8000  # symbols BPE learns (tokenizer="bpe" only)
    min_freq: int = 2  # a token needs this many training occurrences to get its own id
    max_vocab: int | None = 20000  # most ids in all (reserved ones included); None = no cap
    max_length: int | None = 400  # tokens per text; None = no limit
    overlong: str = "truncate"  # a longer text: "truncate" (warn, keep the first max_length) or "error"
    # -- network
    cell: str = "lstm"  # recurrent encoder: "lstm" or "gru"
    embedding_dim: int | None = None  # None: 128 learned, or the dimension of the `embeddings` file
    embeddings: str | None = None  # path of a word-vector text file (GloVe / word2vec format)
    freeze_embeddings: bool = False  # keep loaded vectors fixed
    hidden_size: int = 64  # encoder width per direction
    num_layers: int = 1  # stacked recurrent layers
    bidirectional: bool = True  # read each text both ways
    attention_size: int = 64  # width A of the additive attention
    dropout: float = 0.3  # dropout on the embeddings, between layers and before the head
    class_weight: str | dict | None = None  # None, "balanced" or {label: weight}
    threshold: float = 0.5  # multi-label: a label is predicted when its probability >= this
    # -- training
    epochs: int = 20  # upper bound; early stopping usually ends sooner
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 0.0
    grad_clip_norm: float = 1.0
    ema_decay: float | None = None  # evaluate, keep and return a moving average of the
    #                                 weights with this decay (e.g. 0.999); None = off
    patience: int = 3  # early-stopping patience in epochs on the validation loss
    val_fraction: float = 0.1  # share of the training texts held out for early stopping
    refit: bool = False  # after early stopping, train a fresh network on *all* the texts for
    #                      the best epoch count it found (the held-out share is not wasted)
    adversarial: float = 0.0  # adversarial training (Miyato et al. 2017): each batch is also
    #                           fitted with its embeddings moved this far per token (on average)
    #                           along the loss gradient; 0 = off. Doubles the training cost
    ensemble: int = 1  # train this many networks (seeds seed, seed+1, ...; each with its own
    #                    validation share) and average their probabilities
    keep_train_texts: bool = True  # keep the training texts in the model file, so a loaded
    #                                model's evaluate() refits the TF-IDF baseline
    seed: int = 0
    device: str = "auto"
    progress: str = "none"  # "auto", "bar", "plain" or "none"

    @property
    def embedding_width(self) -> int:
        return self.embedding_dim if self.embedding_dim is not None else 128

    def validate(self) -> None:
        settings.check_ema_decay(self.ema_decay, who=WHO)
        for name, choices in (("tokenizer", KINDS), ("cell", CELLS), ("overlong", OVERLONG)):
            if getattr(self, name) not in choices:
                raise ConfigError(unknown_name(f"{WHO} {name}", str(getattr(self, name)), choices))
        for name in ("bpe_vocab_size", "min_freq", "hidden_size", "num_layers", "attention_size",
                     "epochs", "batch_size"):
            _check_int(name, getattr(self, name), low=1)
        for name, low in (("max_vocab", 5), ("max_length", 1), ("embedding_dim", 1)):
            if getattr(self, name) is not None:
                _check_int(name, getattr(self, name), low=low, optional=True)
        _check_int("patience", self.patience, low=0)
        _check_int("seed", self.seed, low=0)
        _check_int("ensemble", self.ensemble, low=1)
        for name in ("lowercase", "freeze_embeddings", "bidirectional", "keep_train_texts", "refit"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(problem(f"{WHO}: {name}", expected="True or False",
                                          got=repr(getattr(self, name))))
        _check_share("dropout", self.dropout, 0.0, 1.0)
        _check_share("val_fraction", self.val_fraction, 0.0, 0.5,
                     fix="use 0 to train on everything without early stopping")
        _check_share("threshold", self.threshold, 0.0, 1.0)
        for name in ("lr", "grad_clip_norm"):
            if not _number(getattr(self, name)) or getattr(self, name) <= 0:
                raise ConfigError(problem(f"{WHO}: {name}", expected="a number > 0",
                                          got=repr(getattr(self, name))))
        for name in ("weight_decay", "adversarial"):  # 0 = off
            if not _number(getattr(self, name)) or getattr(self, name) < 0:
                raise ConfigError(problem(f"{WHO}: {name}", expected="a number >= 0 (0 = off)",
                                          got=repr(getattr(self, name))))
        if self.refit and not self.val_fraction:
            raise ConfigError(problem(f"{WHO}: refit", expected="val_fraction > 0 (the epoch count "
                                      "comes from early stopping on it)", got="val_fraction=0",
                                      fix="set val_fraction=0.1, or refit=False"))
        self._check_other()

    def _check_other(self) -> None:
        cw = self.class_weight
        if not (cw is None or cw == "balanced" or isinstance(cw, dict)):
            raise ConfigError(problem(f"{WHO}: class_weight", expected="None, 'balanced' or a dict "
                                      "{label: weight}", got=repr(cw)))
        if isinstance(cw, dict):
            for label, w in cw.items():
                if not _number(w) or w <= 0:
                    raise ConfigError(problem(f"{WHO}: class_weight[{label!r}]",
                                              expected="a number > 0", got=repr(w)))
        if self.embeddings is not None and not isinstance(self.embeddings, str):
            raise ConfigError(problem(f"{WHO}: embeddings", expected="None or the path of a "
                                      "word-vector text file", got=repr(self.embeddings)))
        if self.freeze_embeddings and self.embeddings is None:
            raise ConfigError(problem(f"{WHO}: freeze_embeddings", expected="False without an "
                                      "embeddings file", got=True, fix="set embeddings='glove.txt', "
                                      "or freeze_embeddings=False"))


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_int(name: str, value, low: int, optional: bool = False) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        expected = f"an integer >= {low}" + (" or None" if optional else "")
        raise ConfigError(problem(f"{WHO}: {name}", expected=expected, got=repr(value)))


def _check_share(name: str, value, low: float, high: float, fix: str | None = None) -> None:
    if not _number(value) or not low <= value < high:
        raise ConfigError(problem(f"{WHO}: {name}", expected=f"a number in [{low:g}, {high:g})",
                                  got=repr(value), fix=fix))
