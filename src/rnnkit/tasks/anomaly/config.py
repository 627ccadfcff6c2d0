"""The anomaly detector's settings: one dataclass, a default and a comment for each field.

The training settings (epochs, lr, patience …) come from
:class:`~rnnkit.tasks.core.TrainSettings`; the same fields can come from the
``[model]``/``[train]`` tables of a TOML config, and :meth:`AnomalyConfig.from_dict`
refuses an unknown key and names the nearest valid one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from rnnkit.tasks.core import Choice, Flag, Real, Rule, TrainSettings, setting
from rnnkit.tasks.core.checks import FREQUENCY, is_frequency
from rnnkit.tasks.core.limits import MAX_COUNT, MAX_LAYERS, MAX_STEPS, MAX_WIDTH, bounded

METHODS = ("predict", "autoencoder")
CELLS = ("lstm", "gru", "rnn")
FILLS = ("interpolate", "ffill", "zero")
SHARE = dict(high_open=True)  # a share in [0, 1)


@dataclass
class AnomalyConfig(TrainSettings):

    WHO: ClassVar[str] = "AnomalyDetector"
    SETTING: ClassVar[str] = "anomaly detector setting"
    method: str = setting("predict", Choice(*METHODS))  # "predict": prediction error
    #                                 (Telemanom); "autoencoder": reconstruction error
    cell: str = setting("lstm", Choice(*CELLS))  # recurrent layer: "lstm", "gru" or "rnn" (rnnkit.nn)
    hidden_size: int = setting(64, bounded(1, MAX_WIDTH))  # recurrent width
    num_layers: int = setting(1, bounded(1, MAX_LAYERS))  # stacked recurrent layers
    dropout: float = setting(0.0, Real(0, 1, **SHARE))  # between stacked layers (training only)
    layer_norm: bool = setting(False, Flag())  # rnnkit.nn extras, all streamable with layer.step
    recurrent_dropout: float = setting(0.0, Real(0, 1, **SHARE))
    zoneout: float = setting(0.0, Real(0, 1, **SHARE))
    window: int = setting(64, bounded(2, MAX_STEPS))  # training chunk length (predict) / window length W
    #                                 scored as one (autoencoder)
    burn_in: int = setting(8, bounded(0, MAX_STEPS))  # predict: first steps of a chunk or stream that warm
    #                                 the state up, left unscored
    horizons: int = setting(4, bounded(1, MAX_STEPS))  # predict: a point's error is the smallest of its
    #                                 predictions made 1..K steps before
    corrupt: float = setting(0.05, Real(0, 0.5, **SHARE))  # training only: share of input
    #                                 values moved by +-U(2, 6) std (targets stay clean)
    smoothing: int = setting(2, bounded(1, MAX_STEPS))  # EWMA span of the errors: alpha = 2 / (smoothing + 1);
    #                                 1 = no smoothing
    z_min: float = setting(2.0, Real(0, low_open=True))  # threshold search: z in z_min,
    #                                 z_min + 0.5, ..., z_max (epsilon = mu + z sigma)
    z_max: float = setting(10.0, Real(0, low_open=True))
    min_decrease: float = setting(0.13, Real(0, 1, **SHARE))  # p of the minimum-percent-decrease
    #                                 pruning (Hundman et al. 2018)
    buffer_size: int = setting(2000, bounded(10, MAX_COUNT))  # the last unflagged scores the online
    #                                 threshold is searched over
    update_every: int = setting(50, bounded(1, MAX_COUNT))  # recompute the threshold after every this many
    #                                 scored steps
    min_history: int = setting(100, bounded(2, MAX_COUNT))  # buffered scores before the first online search
    #                                 (until then: fit's threshold)
    fill: str | None = setting(None, Choice(*FILLS, optional=True))  # missing values: None
    #                                 (error), "interpolate", "ffill", "zero"
    freq: str | None = setting(None, Rule(is_frequency, FREQUENCY, optional=True))  # resample to this pandas frequency; None: infer, error if irregular
    # -- training (TrainSettings), this task's defaults
    epochs: int = 60
    batch_size: int = 64
    lr: float = 3e-3
    patience: int = 8  # early-stopping patience in epochs on the validation loss
    val_fraction: float = 0.2  # last share of the training series used for validation
    device: str = "cpu"  # training device; scoring always runs on the CPU in float64

    @property
    def alpha(self) -> float:
        """EWMA weight of the newest error: ``2 / (smoothing + 1)``."""
        return 2.0 / (self.smoothing + 1.0)

    @property
    def z_values(self) -> tuple[float, ...]:
        """The ordered grid of z searched by the dynamic threshold."""
        n = int(math.floor((self.z_max - self.z_min) / 0.5 + 1e-9)) + 1
        return tuple(self.z_min + 0.5 * i for i in range(n))

    def check_combinations(self) -> None:
        """A predictor chunk holds a scored step; the online search can start; a z grid."""
        need = self.burn_in + self.horizons + 1  # the last horizon's loss needs one scored step
        if self.method == "predict" and self.window < need:
            self.refuse("window", expected=f">= burn_in + horizons + 1 = {need} (a chunk must "
                        "hold a scored step)", got=self.window,
                        fix="raise window or lower burn_in or horizons")
        if self.min_history > self.buffer_size:
            self.refuse("min_history", expected=f"<= buffer_size={self.buffer_size}",
                        got=self.min_history)
        if self.z_min > self.z_max:
            self.refuse("z_min, z_max", expected="z_min <= z_max", got=(self.z_min, self.z_max))
