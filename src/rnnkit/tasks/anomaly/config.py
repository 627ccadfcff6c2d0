"""The anomaly detector's settings: one dataclass, a default and a comment for each field.

The same fields can come from the ``[model]``/``[train]`` tables of a TOML config;
:meth:`AnomalyConfig.from_dict` refuses an unknown key and names the nearest valid one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from rnnkit.errors import ConfigError, problem, unknown_name
from rnnkit import settings
from rnnkit.settings import StrictSettings

METHODS = ("predict", "autoencoder")
CELLS = ("lstm", "gru", "rnn")


@dataclass
class AnomalyConfig(StrictSettings):

    SETTING: ClassVar[str] = "anomaly detector setting"
    method: str = "predict"  # "predict": prediction error (Telemanom); "autoencoder": reconstruction error
    cell: str = "lstm"  # recurrent layer: "lstm", "gru" or "rnn" (rnnkit.nn)
    hidden_size: int = 64  # recurrent width
    num_layers: int = 1  # stacked recurrent layers
    dropout: float = 0.0  # dropout between stacked layers (training only)
    layer_norm: bool = False  # rnnkit.nn extras, all streamable with layer.step
    recurrent_dropout: float = 0.0
    zoneout: float = 0.0
    window: int = 64  # training chunk length (predict) / window length W scored as one (autoencoder)
    burn_in: int = 8  # predict: first steps of a chunk or stream that warm the state up, left unscored
    horizons: int = 4  # predict: a point's error is the smallest of its predictions made 1..K steps before
    corrupt: float = 0.05  # training only: share of input values moved by +-U(2, 6) std (targets stay clean)
    smoothing: int = 2  # EWMA span of the errors: alpha = 2 / (smoothing + 1); 1 = no smoothing
    z_min: float = 2.0  # threshold search: z in z_min, z_min + 0.5, ..., z_max (epsilon = mu + z sigma)
    z_max: float = 10.0
    min_decrease: float = 0.13  # p of the minimum-percent-decrease pruning (Hundman et al. 2018)
    buffer_size: int = 2000  # the last unflagged scores the online threshold is searched over
    update_every: int = 50  # recompute the threshold after every this many scored steps
    min_history: int = 100  # buffered scores before the first online search (until then: fit's threshold)
    fill: str | None = None  # missing values: None (error), "interpolate", "ffill", "zero"
    freq: str | None = None  # resample to this pandas frequency; None: infer, error if irregular
    epochs: int = 60  # upper bound; early stopping usually ends sooner
    batch_size: int = 64
    lr: float = 3e-3
    weight_decay: float = 0.0
    grad_clip_norm: float = 1.0
    ema_decay: float | None = None  # evaluate, keep and return a moving average of the
    #                                 weights with this decay (e.g. 0.999); None = off
    patience: int = 8  # early-stopping patience in epochs on the validation loss
    val_fraction: float = 0.2  # last share of the training series used for validation
    seed: int = 0
    device: str = "cpu"  # training device; scoring always runs on the CPU in float64
    progress: str = "none"  # "auto", "bar", "plain" or "none"

    @property
    def alpha(self) -> float:
        """EWMA weight of the newest error: ``2 / (smoothing + 1)``."""
        return 2.0 / (self.smoothing + 1.0)

    @property
    def z_values(self) -> tuple[float, ...]:
        """The ordered grid of z searched by the dynamic threshold."""
        n = int(math.floor((self.z_max - self.z_min) / 0.5 + 1e-9)) + 1
        return tuple(self.z_min + 0.5 * i for i in range(n))

    def validate(self) -> None:
        settings.check_ema_decay(self.ema_decay, who="AnomalyDetector")
        if self.method not in METHODS:
            raise ConfigError(unknown_name("method", str(self.method), METHODS))
        if self.cell not in CELLS:
            raise ConfigError(unknown_name("cell", str(self.cell), CELLS))
        for name, low in (("hidden_size", 1), ("num_layers", 1), ("window", 2), ("burn_in", 0),
                          ("horizons", 1),
                          ("smoothing", 1), ("buffer_size", 10), ("update_every", 1),
                          ("min_history", 2), ("epochs", 1), ("batch_size", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(problem(f"AnomalyDetector: {name}", expected=f"an integer >= {low}",
                                          got=repr(value)))
        need = self.burn_in + self.horizons + 1  # the last horizon's loss needs one scored step
        if self.method == "predict" and self.window < need:
            raise ConfigError(problem("AnomalyDetector: window", expected=f">= burn_in + horizons "
                                      f"+ 1 = {need} (a chunk must hold a scored step)", got=self.window))
        if self.min_history > self.buffer_size:
            raise ConfigError(problem("AnomalyDetector: min_history", expected=f"<= buffer_size="
                                      f"{self.buffer_size}", got=self.min_history))
        if not 0 < self.z_min <= self.z_max:
            raise ConfigError(problem("AnomalyDetector: z_min, z_max", expected="0 < z_min <= z_max",
                                      got=(self.z_min, self.z_max)))
        if not 0 <= self.corrupt < 0.5:
            raise ConfigError(problem("AnomalyDetector: corrupt", expected="a share in [0, 0.5)",
                                      got=self.corrupt))
        if not 0 <= self.min_decrease < 1:
            raise ConfigError(problem("AnomalyDetector: min_decrease", expected="a share in [0, 1)",
                                      got=self.min_decrease))
        if not 0.0 <= self.val_fraction < 0.9:
            raise ConfigError(problem("AnomalyDetector: val_fraction", expected="a share in [0, 0.9)",
                                      got=self.val_fraction))
        if not self.lr > 0:
            raise ConfigError(problem("AnomalyDetector: lr", expected="> 0", got=self.lr))
