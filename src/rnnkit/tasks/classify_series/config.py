"""The series classifier's settings: one dataclass, a default and a comment for each field.

The training settings (epochs, lr, patience …) come from
:class:`~rnnkit.tasks.core.TrainSettings`; the CLI reads the same fields from the
``[model]``/``[train]`` tables of a TOML config.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rnnkit.tasks.core import Choice, Flag, Real, TrainSettings, setting
from rnnkit.tasks.core.limits import MAX_LAYERS, MAX_WIDTH, bounded

CELLS = ("lstm", "gru", "rnn")
POOLINGS = ("last", "mean", "last+mean")
SHARE = Real(0, 1, high_open=True)  # dropout-like probabilities, [0, 1)


@dataclass
class SequenceClassifierConfig(TrainSettings):

    WHO: ClassVar[str] = "SequenceClassifier"
    cell: str = setting("lstm", Choice(*CELLS))  # recurrent encoder: "lstm", "gru" or "rnn"
    hidden_size: int = setting(64, bounded(1, MAX_WIDTH))  # encoder width per direction
    num_layers: int = setting(1, bounded(1, MAX_LAYERS))  # stacked recurrent layers
    bidirectional: bool = setting(True, Flag())  # read each series both ways (whole series are known)
    pooling: str = setting("last+mean", Choice(*POOLINGS))  # series summary: "last" final
    #                                 states, "mean" over real steps, or both
    dropout: float = setting(0.1, SHARE)  # dropout between layers and before the linear head
    layer_norm: bool = setting(False, Flag())  # rnnkit.nn extras on the encoder
    recurrent_dropout: float = setting(0.0, SHARE)
    zoneout: float = setting(0.0, SHARE)
    keep_train_set: bool = setting(True, Flag())  # keep the scaled training set in the model
    #                                 file, so a loaded model's evaluate() still scores the
    #                                 1-NN / centroid baselines
    # -- training (TrainSettings), this task's defaults
    epochs: int = 100
    lr: float = 3e-3
    patience: int = 30  # early-stopping patience in epochs on the validation loss (long: small
    #                     validation sets are noisy); the lr halves after patience // 3 = 10
    val_fraction: float = setting(0.15, Real(0, 0.5, high_open=True, fix="use 0 to train on "
                                              "everything without early stopping"))  # stratified
    #                                 share of the training set held out for early stopping
