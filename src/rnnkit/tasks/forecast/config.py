"""The forecaster's settings: one dataclass, a default and a comment for each field.

The training settings (epochs, lr, patience …) come from
:class:`~rnnkit.tasks.core.TrainSettings`; the CLI reads the same fields from the
``[model]``/``[train]`` tables of a TOML config.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rnnkit.tasks.core import Choice, Flag, Int, Real, TrainSettings, setting

CELLS = ("lstm", "gru", "rnn")
LIKELIHOODS = ("quantile", "gaussian", "point")
FILLS = ("interpolate", "ffill", "zero")


@dataclass
class ForecastConfig(TrainSettings):

    WHO: ClassVar[str] = "Forecaster"
    SETTING: ClassVar[str] = "forecaster setting"
    cell: str = setting("lstm", Choice(*CELLS))  # recurrent encoder: "lstm", "gru" or "rnn"
    lookback: int = setting(56, Int(1))  # past steps the encoder reads
    horizon: int = setting(7, Int(1))  # steps ahead forecast at once (direct multi-horizon head)
    hidden_size: int = setting(64, Int(1))  # encoder and head width
    num_layers: int = setting(1, Int(1))  # stacked recurrent layers
    dropout: float = setting(0.0, Real(0, 1, high_open=True))  # between layers and in the head
    layer_norm: bool = setting(False, Flag())  # rnnkit.nn extras on the encoder
    recurrent_dropout: float = setting(0.0, Real(0, 1, high_open=True))
    zoneout: float = setting(0.0, Real(0, 1, high_open=True))
    likelihood: str = setting("quantile", Choice(*LIKELIHOODS))  # "quantile", "gaussian" or "point"
    quantiles: tuple = (0.1, 0.5, 0.9)  # for "quantile": lowest and highest bound the interval
    interval: float = setting(0.8, Real(0, 1, low_open=True, high_open=True))  # interval level
    #                                                   for "gaussian" (and for the baselines)
    transform: str | None = setting(None, Choice("log", optional=True))  # None or "log"
    #                                                   (multiplicative series; needs values > 0)
    calendar: bool = setting(True, Flag())  # calendar features of past and future timestamps
    season: int | None = setting(None, Int(1, optional=True))  # seasonal period in steps;
    #                                                   None: from the frequency
    fill: str | None = setting(None, Choice(*FILLS, optional=True))  # missing values: None
    #                                                   (error), "interpolate", "ffill", "zero"
    freq: str | None = None  # resample to this pandas frequency; None: infer, error if irregular
    # -- training (TrainSettings), this task's defaults
    epochs: int = 40
    batch_size: int = 64
    lr: float = 3e-3
    patience: int = 6  # early-stopping patience in epochs on the validation loss
    val_fraction: float = 0.15  # last share of each series' time used for validation
