"""The forecasting network's inputs: windows of scaled features.

For series ``i`` with ``T`` steps the feature matrix is ``(T + H, F_in)``: scaled targets,
scaled past covariates (zero beyond ``T``) and calendar features, which are known for the
``H`` future steps too. A window at origin ``o`` (the first step forecast) takes::

    past   = feats[o - L : o]            # (L, F_in)
    future = calendar[o : o + H]         # (H, F_cal)
    y      = scaled_targets[o : o + H]   # (H, C), when those steps are observed

:class:`NetworkInputs` holds one such window as the network reads it (what
:meth:`Forecaster.network_inputs` returns to ``inspect`` and other callers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from rnnkit.data.calendar import calendar_features, future_times
from rnnkit.data.frames import SeriesSet
from rnnkit.data.scaling import SeriesScaler
from rnnkit.errors import DataError


@dataclass
class Scalers:
    """Target scaling per series; past covariates and statics scaled globally."""

    target: dict  # id (as str) -> SeriesScaler of one series (1, C)
    past: SeriesScaler  # (1, C_past)
    static: SeriesScaler  # (1, S)

    def for_series(self, key, history: np.ndarray) -> SeriesScaler:
        """The stored scaler of a known series, else one fitted on its own history."""
        return self.target.get(str(key)) or SeriesScaler.fit([history])

    def to_dict(self) -> dict:
        return {"target": {k: v.to_dict() for k, v in self.target.items()},
                "past": self.past.to_dict(), "static": self.static.to_dict()}

    @classmethod
    def from_dict(cls, d: dict) -> "Scalers":
        return cls({k: SeriesScaler.from_dict(v) for k, v in d["target"].items()},
                   SeriesScaler.from_dict(d["past"]), SeriesScaler.from_dict(d["static"]))


def fit_scalers(series: SeriesSet, ends: list[int]) -> Scalers:
    """Fit scalers on each series' first ``ends[i]`` steps only (no future leaks in)."""
    target = {str(k): SeriesScaler.fit([v[:e]]) for k, v, e in zip(series.ids, series.values, ends)}
    past = [p[:e] for p, e in zip(series.past, ends)]
    return Scalers(target, SeriesScaler.fit([np.concatenate(past)]),
                   SeriesScaler.fit([series.static if len(series.static) else np.zeros((1, 0))]))


def _future(series: SeriesSet, i: int, horizon: int) -> pd.DatetimeIndex:
    """The ``horizon`` times after series ``i``; past pandas' last time, an error that names
    the series (the features of every series hold its future calendar)."""
    try:
        return future_times(series.times[i][-1], series.freq, horizon)
    except DataError as err:
        if series.ids[i] is None:
            raise
        raise DataError(f"series {series.ids[i]!r}: {err}") from None


class SeriesFeatures:
    """Scaled feature matrices of every series of a :class:`SeriesSet`."""

    def __init__(self, series: SeriesSet, scalers: Scalers, horizon: int, calendar: bool,
                 scale_ends: list[int] | None = None) -> None:
        self.series, self.horizon = series, horizon
        self.target_scalers, self.feats, self.cal = [], [], []
        for i, key in enumerate(series.ids):
            end = scale_ends[i] if scale_ends else len(series.values[i])
            sc = scalers.for_series(key, series.values[i][:end])
            self.target_scalers.append(sc)
            times = series.times[i].append(_future(series, i, horizon))
            cal = calendar_features(times, series.freq) if calendar else np.zeros((len(times), 0), np.float32)
            y = np.vstack([sc.transform(series.values[i], 0), np.zeros((horizon, len(series.targets)))])
            past = np.vstack([scalers.past.transform(series.past[i], 0),
                              np.zeros((horizon, len(series.past_names)))])
            self.feats.append(np.hstack([y, past, cal]).astype(np.float32))  # (T + H, F_in)
            self.cal.append(cal)
        self.static = scalers.static.transform(series.static, 0).astype(np.float32) \
            if series.static.size else np.zeros((len(series), 0), np.float32)

    @property
    def n_inputs(self) -> int:
        return self.feats[0].shape[1]

    @property
    def n_future(self) -> int:
        return self.cal[0].shape[1]

    def windows(self, pairs: list[tuple[int, int]], lookback: int) -> dict[str, torch.Tensor]:
        """Tensors for (series, origin) pairs: past, future, static, y (scaled), series."""
        H, C = self.horizon, len(self.series.targets)
        past = np.stack([_before(self.feats[i], o, lookback) for i, o in pairs])  # (W, L, F_in)
        future = np.stack([self.cal[i][o: o + H] for i, o in pairs])  # (W, H, F_cal)
        y = np.stack([self.feats[i][o: o + H, :C] for i, o in pairs])  # (W, H, C)
        index = np.array([i for i, _ in pairs], dtype=np.int64)
        return {"past": torch.from_numpy(past), "future": torch.from_numpy(future),
                "static": torch.from_numpy(self.static[index]), "y": torch.from_numpy(y.astype(np.float32)),
                "series": torch.from_numpy(index)}

    def unscale(self, values: np.ndarray, series_index: np.ndarray) -> np.ndarray:
        """Inverse target scaling of ``values`` ``(W, H, C)`` window by window."""
        out = np.empty_like(values, dtype=np.float64)
        for w, i in enumerate(series_index):
            out[w] = self.target_scalers[i].inverse(values[w], 0)
        return out


def _before(feats: np.ndarray, origin: int, lookback: int) -> np.ndarray:
    """Rows ``[origin - L, origin)`` of ``feats``; rows before the series' start repeat its
    first row (a panel's short series, see ``Forecaster.min_rows_``)."""
    if origin >= lookback:
        return feats[origin - lookback: origin]
    return np.concatenate([np.repeat(feats[:1], lookback - origin, axis=0), feats[:origin]])


@dataclass
class NetworkInputs:
    """The last window of series ``index`` as the network reads it (float32, scaled):
    ``past`` ``(1, L, F_in)``, ``future`` ``(1, H, F_cal)``, ``static`` ``(1, S)``;
    ``features`` the :class:`SeriesFeatures` they were cut from; ``log``: the model forecasts
    the log of the series (``transform="log"``)."""

    past: torch.Tensor
    future: torch.Tensor
    static: torch.Tensor
    features: SeriesFeatures = field(repr=False)
    index: int = 0
    log: bool = False

    def to_data_units(self, scaled: np.ndarray) -> np.ndarray:
        """Network output in scaled units ``(1, H, C)`` (e.g. the point forecast) -> data
        units ``(1, H, C)`` float64: the series' inverse scaling, then ``exp`` for ``log``."""
        out = self.features.unscale(np.asarray(scaled), np.array([self.index] * len(scaled)))
        return np.exp(out) if self.log else out
