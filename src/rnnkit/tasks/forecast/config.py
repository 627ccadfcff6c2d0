"""The forecaster's settings: one dataclass, a default and a comment for each field.

The training settings (epochs, lr, patience …) come from
:class:`~rnnkit.tasks.core.TrainSettings`; the CLI reads the same fields from the
``[model]``/``[train]`` tables of a TOML config.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rnnkit.tasks.core import Choice, Flag, Real, Rule, TrainSettings, setting
from rnnkit.tasks.core.checks import FREQUENCY, is_frequency, is_number
from rnnkit.tasks.core.limits import MAX_COUNT, MAX_LAYERS, MAX_STEPS, MAX_WIDTH, bounded
from rnnkit.tasks.forecast.guard import MODES

CELLS = ("lstm", "gru", "rnn")
LIKELIHOODS = ("quantile", "gaussian", "point")
FILLS = ("interpolate", "ffill", "zero")
QUANTILES = "2 to 99 increasing numbers in (0, 1), e.g. (0.1, 0.5, 0.9)"


def _quantiles(value) -> bool:
    """2 to 99 increasing values in (0, 1): one network output each."""
    return (isinstance(value, (tuple, list)) and 2 <= len(value) <= 99
            and all(is_number(q) and 0 < q < 1 for q in value)
            and all(a < b for a, b in zip(value, value[1:])))


@dataclass
class ForecastConfig(TrainSettings):

    WHO: ClassVar[str] = "Forecaster"
    SETTING: ClassVar[str] = "forecaster setting"
    cell: str = setting("lstm", Choice(*CELLS))  # recurrent encoder: "lstm", "gru" or "rnn"
    lookback: int | None = setting(None, bounded(1, MAX_STEPS, optional=True))  # past steps the
    #                                                   encoder reads; None: from the season, horizon and length
    horizon: int = setting(7, bounded(1, MAX_STEPS))  # steps ahead forecast at once (direct multi-horizon head)
    hidden_size: int = setting(64, bounded(1, MAX_WIDTH))  # encoder and head width
    num_layers: int = setting(1, bounded(1, MAX_LAYERS))  # stacked recurrent layers
    dropout: float = setting(0.0, Real(0, 1, high_open=True))  # between layers and in the head
    layer_norm: bool = setting(False, Flag())  # rnnkit.nn extras on the encoder
    recurrent_dropout: float = setting(0.0, Real(0, 1, high_open=True))
    zoneout: float = setting(0.0, Real(0, 1, high_open=True))
    likelihood: str = setting("quantile", Choice(*LIKELIHOODS))  # "quantile", "gaussian" or "point"
    quantiles: tuple = setting((0.1, 0.5, 0.9), Rule(_quantiles, QUANTILES))  # for "quantile": lowest and highest bound the interval
    interval: float = setting(0.8, Real(0, 1, low_open=True, high_open=True))  # interval level
    #                                                   for "gaussian" (and for the baselines)
    transform: str | None = setting("auto", Choice("auto", "log", "none", optional=True))  # "auto":
    #                                                   "log" where a positive series' spread grows
    #                                                   with its level; "log" (values > 0); "none" or None
    normalize: str = setting("window", Choice("window", "series"))  # "window": each window in
    #                                                   units of its own step size, on a seasonal-naive
    #                                                   or naive base (ES-RNN); "series": one scale per series
    ensemble: int | None = setting(None, bounded(1, 15, optional=True))  # members (seeds and
    #                                                   lookbacks) combined by the median; None: by data size
    guard: str = setting("auto", Choice(*MODES))  # where the network loses to the best baseline
    #                                                   on validation: "auto" (best of network, mean
    #                                                   with the baseline, baseline), "combine",
    #                                                   "fallback" or "keep"
    calendar: bool = setting(True, Flag())  # calendar features of past and future timestamps
    season: int | None = setting(None, bounded(1, MAX_STEPS, optional=True))  # seasonal period in steps;
    #                                                   None: from the frequency
    fill: str | None = setting(None, Choice(*FILLS, optional=True))  # missing values: None
    #                                                   (error), "interpolate", "ffill", "zero"
    freq: str | None = setting(None, Rule(is_frequency, FREQUENCY, optional=True))  # resample to this pandas frequency; None: infer, error if irregular
    # -- training (TrainSettings), this task's defaults
    epochs: int | None = setting(None, bounded(1, MAX_COUNT, optional=True))  # upper bound;
    #                                                   None: from max_steps (an epoch is at least 25 updates)
    max_steps: int | None = None  # optimizer updates; None: 600 * (windows / batch)^0.3, at most 5,000
    batch_size: int = 64
    lr: float = 3e-3
    patience: int = 6  # early-stopping patience in epochs on the validation loss
    val_fraction: float = 0.15  # last share of each series' time used for validation
