"""Serving a :class:`~rnnkit.Forecaster`: forecasts for many histories in one pass, and
sessions that follow a live series one observation at a time.

``predict`` instance: the recent rows of one series (at least ``lookback``, oldest first)::

    {"time": ["2015-11-05", ...], "values": {"temp_max": [12.2, ...]}, "id": null, "static": {}}

``predict`` answer: the next ``horizon`` steps with the point forecast and, for a
probabilistic model, the interval bounds of each target.

A session keeps the last ``lookback`` rows on the server; each ``step`` sends one or more
new rows and gets, per row, the forecast from the history so far (null until ``lookback``
rows have arrived). Steps of many sessions share one network pass; each answer equals
``predict`` on the session's rows so far.
"""

from __future__ import annotations

from collections import deque
from typing import Optional, Union

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from rnnkit.errors import DataError
from rnnkit.serve.adapters.base import Prepared, Strict, TaskAdapter, floats, register_adapter
from rnnkit.tasks.forecast import arrays


class ForecastInstance(Strict):
    time: list[str] = Field(min_length=1, description="Timestamps, oldest first, regular at the "
                            "model's frequency, no gaps (ISO 8601).")
    values: dict[str, list[float]] = Field(description="Column name -> one number per time: every "
                                           "target and past covariate the model reads.")
    id: Optional[Union[str, int]] = Field(None, description="Series id, for a model fitted with id=.")
    static: dict[str, float] = Field(default_factory=dict, description="Static covariates, if any.")


class TargetForecast(BaseModel):
    point: list[Optional[float]]
    lower: Optional[list[Optional[float]]] = None
    upper: Optional[list[Optional[float]]] = None


class ForecastPrediction(BaseModel):
    id: Optional[Union[str, int]] = None
    time: list[str] = Field(description="The forecast timestamps (horizon steps).")
    step: list[int]
    interval: Optional[float] = Field(None, description="Level of the lower/upper interval.")
    forecast: dict[str, TargetForecast]


class ForecastSessionOpen(Strict):
    pass


class ForecastStep(Strict):
    time: list[str] = Field(min_length=1, description="The new rows' timestamps, oldest first.")
    values: dict[str, list[float]]


class ForecastStepOutput(BaseModel):
    outputs: list[Optional[ForecastPrediction]] = Field(
        description="Per new row, the forecast from the history so far (null before lookback rows).")
    rows_seen: int


def _iso(times: pd.DatetimeIndex) -> list[str]:
    """ISO 8601 strings, seconds resolution (vectorized: no Timestamp objects)."""
    return np.datetime_as_string(times.values, unit="s").tolist()


class _Window:
    """A session's last ``lookback`` rows."""

    def __init__(self, lookback: int) -> None:
        self.times: deque = deque(maxlen=lookback)
        self.values: deque = deque(maxlen=lookback)
        self.seen = 0


@register_adapter("forecast")
class ForecasterAdapter(TaskAdapter):
    Instance, Prediction = ForecastInstance, ForecastPrediction
    SessionOpen, Step, StepOutput = ForecastSessionOpen, ForecastStep, ForecastStepOutput

    def __init__(self, estimator, name: str) -> None:
        super().__init__(estimator, name)
        f = estimator
        self.columns = [*f.columns_["targets"], *f.columns_["past"]]
        self.interval = f.likelihood_.interval_level
        self.sessions_ok = f.columns_["id"] is None and not f.columns_["static"]

    def describe(self) -> dict:
        f = self.estimator
        return {**super().describe(), "sessions": self.sessions_ok,
                "inputs": {"time": f.columns_["time"], "targets": f.columns_["targets"],
                           "past_covariates": f.columns_["past"], "static_covariates": f.columns_["static"],
                           "id": f.columns_["id"], "frequency": f.freq_},
                "lookback": f.config.lookback, "horizon": f.config.horizon, "interval": self.interval,
                "metrics": getattr(f, "metrics_", {})}

    def example_instance(self) -> dict:
        f = self.estimator
        L = f.config.lookback
        end = pd.Timestamp(next(iter(f.train_end_.values()), "2024-01-01"))
        times = pd.date_range(end=end, periods=L, freq=f.freq_)
        stats = getattr(f, "input_stats_", {}) or {}
        values = {c: [round(stats.get(c, {}).get("mean", 1.0), 3)] * L for c in self.columns}
        out = {"time": [str(t) for t in times], "values": values}
        if f.columns_["id"] is not None:
            out["id"] = next(iter(f.train_end_))
        if f.columns_["static"]:
            out["static"] = {s: 0.0 for s in f.columns_["static"]}
        return out

    def example_step(self) -> dict:
        one = self.example_instance()
        return {"time": one["time"][-1:], "values": {k: v[-1:] for k, v in one["values"].items()}}

    def drift_features(self):
        stats = arrays.training_stats(self.estimator)
        if stats is None:
            return self.columns, None, None
        return stats

    # ---- predict ------------------------------------------------------------------------
    def prepare(self, instance: ForecastInstance) -> Prepared:
        h = arrays.history(self.estimator, time=instance.time, values=instance.values,
                           static=instance.static, id=instance.id, where="instance")
        return Prepared(h, len(h.times), np.hstack([h.values, h.past]))

    def predict_batch(self, histories: list) -> list:
        return [self._answer(f) for f in arrays.forecast_many(self.estimator, histories)]

    def _answer(self, f: arrays.ArrayForecast) -> ForecastPrediction:
        names = self.estimator.columns_["targets"]
        forecast = {}
        for k, name in enumerate(names):
            forecast[name] = TargetForecast(point=floats(f.point[:, k]),
                                            lower=None if f.lower is None else floats(f.lower[:, k]),
                                            upper=None if f.upper is None else floats(f.upper[:, k]))
        return ForecastPrediction(id=f.id, time=_iso(f.times),
                                  step=list(range(1, len(f.times) + 1)), interval=self.interval,
                                  forecast=forecast)

    # ---- sessions -----------------------------------------------------------------------
    def open_session(self, body) -> _Window:
        if not self.sessions_ok:
            return super().open_session(body)  # raises: a session follows one plain series
        return _Window(self.estimator.config.lookback)

    def prepare_step(self, window: _Window, step: ForecastStep) -> Prepared:
        """Check the new rows (columns, numbers, timestamps that continue the session's)
        before anything changes: a refused step leaves the session as it was."""
        f, n = self.estimator, len(step.time)
        unknown = [k for k in step.values if k not in self.columns]
        missing = [k for k in self.columns if k not in step.values]
        bad = [k for k, v in step.values.items() if len(v) != n]
        if unknown or missing or bad:
            what = (f"unknown columns {unknown}" if unknown else f"missing columns {missing}"
                    if missing else f"columns {bad} without one value per time")
            raise DataError(f"step: expected values for {self.columns} with {n} numbers "
                                   f"each (one per time), got {what}")
        times = arrays.parse_times(step.time, "step")
        start = times[0] if not window.times else window.times[-1]
        expected = pd.date_range(start=start, periods=n + (1 if window.times else 0), freq=f.freq_)
        expected = expected[1:] if window.times else expected
        if not times.equals(expected):
            i = int(np.argmax(times.values != expected.values))
            after = f"after {window.times[-1]}" if window.times else "from the first row"
            raise DataError(f"step: time[{i}]: expected {expected[i]} (regular steps of "
                                   f"frequency {f.freq_!r} {after}), got {times[i]}")
        table = np.asarray([step.values[k] for k in self.columns], dtype=np.float64).T.reshape(n, -1)
        return Prepared((times, table), n, table)

    def step_batch(self, pairs: list) -> list:
        """Round ``r`` appends row ``r`` of every session that has one and forecasts all
        full windows in one pass."""
        f = self.estimator
        L, C = f.config.lookback, len(f.columns_["targets"])
        outputs: list = [[] for _ in pairs]
        rounds = max(len(p[1][0]) for p in pairs)
        for r in range(rounds):
            ready, histories = [], []
            for i, (window, (times, table)) in enumerate(pairs):
                if r >= len(times):
                    continue
                window.times.append(times[r])
                window.values.append(table[r])
                window.seen += 1
                if len(window.times) < L:
                    outputs[i].append(None)
                    continue
                rows = np.stack(window.values)  # (L, C + P)
                histories.append(arrays.History(pd.DatetimeIndex(list(window.times)), rows[:, :C],
                                                rows[:, C:], np.zeros(0)))
                ready.append(i)
            if histories:
                for i, fc in zip(ready, arrays.forecast_many(f, histories)):
                    outputs[i].append(self._answer(fc))
        return [ForecastStepOutput(outputs=outputs[i], rows_seen=w.seen) for i, (w, _) in enumerate(pairs)]

