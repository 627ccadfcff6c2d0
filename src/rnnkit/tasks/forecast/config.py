"""The forecaster's settings: one dataclass, a default and a comment for each field.

The CLI reads the same fields from the ``[model]``/``[train]`` tables of a TOML config.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

from rnnkit.errors import ConfigError, problem, unknown_name
from rnnkit import settings
from rnnkit.settings import StrictSettings


@dataclass
class ForecastConfig(StrictSettings):

    SETTING: ClassVar[str] = "forecaster setting"
    cell: str = "lstm"  # recurrent encoder: "lstm", "gru" or "rnn"
    lookback: int = 56  # past steps the encoder reads
    horizon: int = 7  # steps ahead forecast at once (direct multi-horizon head)
    hidden_size: int = 64  # encoder and head width
    num_layers: int = 1  # stacked recurrent layers
    dropout: float = 0.0  # dropout between layers and in the head
    layer_norm: bool = False  # rnnkit.nn extras on the encoder
    recurrent_dropout: float = 0.0
    zoneout: float = 0.0
    likelihood: str = "quantile"  # "quantile", "gaussian" or "point"
    quantiles: tuple = (0.1, 0.5, 0.9)  # for "quantile": lowest and highest bound the interval
    interval: float = 0.8  # interval level for "gaussian" (and for the baselines)
    transform: str | None = None  # None or "log" (multiplicative series; needs values > 0)
    calendar: bool = True  # calendar features of past and future timestamps
    season: int | None = None  # seasonal period in steps; None: from the frequency
    fill: str | None = None  # missing values: None (error), "interpolate", "ffill", "zero"
    freq: str | None = None  # resample to this pandas frequency; None: infer, error if irregular
    epochs: int = 40  # upper bound; early stopping usually ends sooner
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 0.0
    grad_clip_norm: float = 1.0
    ema_decay: float | None = None  # evaluate, keep and return a moving average of the
    #                                 weights with this decay (e.g. 0.999); None = off
    patience: int = 6  # early-stopping patience in epochs on the validation loss
    val_fraction: float = 0.15  # last share of each series' time used for validation
    seed: int = 0
    device: str = "auto"
    progress: str = "none"  # "auto", "bar", "plain" or "none"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["quantiles"] = list(self.quantiles)
        return d

    def validate(self) -> None:
        settings.check_ema_decay(self.ema_decay, who="Forecaster")
        if self.cell not in ("lstm", "gru", "rnn"):
            raise ConfigError(unknown_name("cell", str(self.cell), ["lstm", "gru", "rnn"]))
        for name in ("lookback", "horizon", "hidden_size", "num_layers", "epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(problem(f"Forecaster: {name}", expected="an integer >= 1", got=repr(value)))
        if not 0.0 <= self.val_fraction < 0.9:
            raise ConfigError(problem("Forecaster: val_fraction", expected="a share in [0, 0.9)",
                                      got=self.val_fraction))
        if not self.lr > 0:
            raise ConfigError(problem("Forecaster: lr", expected="> 0", got=self.lr))
        if self.transform not in (None, "log"):
            raise ConfigError(unknown_name("transform", str(self.transform), ["None", "log"]))
        if self.season is not None and (not isinstance(self.season, int) or self.season < 1):
            raise ConfigError(problem("Forecaster: season", expected="None or an integer >= 1", got=self.season))
