"""The series classifier's settings: one dataclass, a default and a comment for each field.

The CLI reads the same fields from the ``[model]``/``[train]`` tables of a TOML config.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from rnnkit.errors import ConfigError, problem, unknown_name
from rnnkit import settings
from rnnkit.settings import StrictSettings

CELLS = ("lstm", "gru", "rnn")
POOLINGS = ("last", "mean", "last+mean")


@dataclass
class SequenceClassifierConfig(StrictSettings):

    SETTING: ClassVar[str] = "SequenceClassifier setting"
    cell: str = "lstm"  # recurrent encoder: "lstm", "gru" or "rnn"
    hidden_size: int = 64  # encoder width per direction
    num_layers: int = 1  # stacked recurrent layers
    bidirectional: bool = True  # read each series both ways (whole series are known)
    pooling: str = "last+mean"  # series summary: "last" final states, "mean" over real steps, or both
    dropout: float = 0.1  # dropout between layers and before the linear head
    layer_norm: bool = False  # rnnkit.nn extras on the encoder
    recurrent_dropout: float = 0.0
    zoneout: float = 0.0
    epochs: int = 100  # upper bound; early stopping usually ends sooner
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 0.0
    grad_clip_norm: float = 1.0
    ema_decay: float | None = None  # evaluate, keep and return a moving average of the
    #                                 weights with this decay (e.g. 0.999); None = off
    patience: int = 30  # early-stopping patience in epochs on the validation loss (long: small
    #                     validation sets are noisy)
    val_fraction: float = 0.15  # stratified share of the training set held out for early stopping
    keep_train_set: bool = True  # keep the scaled training set in the model file, so a loaded
    #                              model's evaluate() still scores the 1-NN / centroid baselines
    seed: int = 0
    device: str = "auto"
    progress: str = "none"  # "auto", "bar", "plain" or "none"

    def validate(self) -> None:
        settings.check_ema_decay(self.ema_decay, who="SequenceClassifier")
        if self.cell not in CELLS:
            raise ConfigError(unknown_name("cell", str(self.cell), CELLS))
        if self.pooling not in POOLINGS:
            raise ConfigError(unknown_name("pooling", str(self.pooling), POOLINGS))
        for name in ("hidden_size", "num_layers", "epochs", "batch_size"):
            _check_int(name, getattr(self, name), low=1)
        _check_int("patience", self.patience, low=0)
        _check_int("seed", self.seed, low=0)
        for name in ("bidirectional", "layer_norm", "keep_train_set"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(problem(f"SequenceClassifier: {name}", expected="True or False",
                                          got=repr(getattr(self, name))))
        _check_share("dropout", self.dropout, high=1.0)
        _check_share("val_fraction", self.val_fraction, high=0.5, fix="use 0 to train on "
                     "everything without early stopping")
        if not _number(self.lr) or self.lr <= 0:
            raise ConfigError(problem("SequenceClassifier: lr", expected="a number > 0", got=repr(self.lr)))


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_int(name: str, value, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ConfigError(problem(f"SequenceClassifier: {name}", expected=f"an integer >= {low}",
                                  got=repr(value)))


def _check_share(name: str, value, high: float, fix: str | None = None) -> None:
    if not _number(value) or not 0.0 <= value < high:
        raise ConfigError(problem(f"SequenceClassifier: {name}", expected=f"a number in [0, {high:g})",
                                  got=repr(value), fix=fix))
