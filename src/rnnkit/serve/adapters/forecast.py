"""Serving a :class:`~rnnkit.Forecaster`: forecasts for many histories in one pass, and
sessions that follow a live series one observation at a time.

``predict`` instance: the recent rows of one series (at least ``lookback``, oldest first)::

    {"time": ["2015-11-05", ...], "values": {"temp_max": [12.2, ...]}, "id": null, "static": {}}

``predict`` answer: the next ``horizon`` steps with the point forecast and, for a
probabilistic model, the interval bounds of each target.

A session keeps the last ``history_rows_`` rows on the server; each ``step`` sends one or more
new rows and gets, per row, the forecast from the history so far (null until ``lookback``
rows have arrived). Steps of many sessions share one network pass; each answer equals
``predict`` on the session's rows so far.

Every instance and step is checked on its own before it is queued: numbers finite once
scaled to the network's float32 units (:mod:`rnnkit.serve.ranges`), timestamps and the
forecast's timestamps inside pandas' range (:func:`rnnkit.data.calendar.parse_times` and
:func:`~rnnkit.data.calendar.future_times`). A forecast that still comes out non-finite
fails its own instance only.
"""

from __future__ import annotations

from collections import deque
from typing import Optional, Union

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from rnnkit.data import calendar
from rnnkit.errors import DataError
from rnnkit.serve import ranges
from rnnkit.serve.adapters.base import Prepared, Strict, TaskAdapter, floats, per_item, register_adapter
from rnnkit.tasks.forecast import arrays

# A series the model has no stored scaler for is scaled by its own mean and spread, where
# spread >= 1e-12 * (1 + |mean|) (SeriesScaler.fit): values of magnitude <= 1e20 then stay
# below 2e32 once scaled, inside float32, so the scaler need not be fitted here to know it.
SELF_SCALED_SAFE = 1e20
EXAMPLE_ROWS = 512  # longest OpenAPI example: a longer lookback gets a schema-only example


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
    """A session's last ``rows`` rows (the forecaster's ``history_rows_``)."""

    def __init__(self, rows: int) -> None:
        self.times: deque = deque(maxlen=rows)
        self.values: deque = deque(maxlen=rows)
        self.seen = 0

    def copy(self) -> "_Window":
        """A copy whose deques can move on while this one stays as it is."""
        other = _Window(self.times.maxlen)
        other.times.extend(self.times)
        other.values.extend(self.values)
        other.seen = self.seen
        return other


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
                "lookback": f.lookback_, "horizon": f.config.horizon, "interval": self.interval,
                "metrics": getattr(f, "metrics_", {})}

    def example_instance(self, rows: int | None = None) -> dict:
        f = self.estimator
        L = f.lookback_ if rows is None else rows
        if L > EXAMPLE_ROWS:
            raise DataError(f"example: lookback={L} rows is longer than an OpenAPI example "
                            f"may be ({EXAMPLE_ROWS} rows)")
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
        one = self.example_instance(rows=1)
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
        f = self.estimator
        calendar.check_future(h.times[-1], f.freq_, f.config.horizon)  # refuses one past the range
        self._check_range(h.values, h.past, h.id, "instance")
        if f.columns_["static"]:
            s = f.scalers_.static
            ranges.check_scaled(h.static[None], s.mean, s.scale, f.columns_["static"], "instance", "static")
        return Prepared(h, len(h.times), np.hstack([h.values, h.past]))

    def _check_range(self, values: np.ndarray, past: np.ndarray, key, where: str) -> None:
        """Targets and past covariates finite once scaled as the network sees them."""
        f = self.estimator
        targets, past_names = f.columns_["targets"], f.columns_["past"]
        if f.config.transform == "log":
            ranges.check_positive(values, targets, where, "the model forecasts the log of its targets")
            values = np.log(values)
        stored = f.scalers_.target.get(str(key))
        if stored is not None:
            ranges.check_scaled(values, stored.mean, stored.scale, targets, where)
        elif not np.abs(values).max(initial=0.0) <= SELF_SCALED_SAFE:  # else no fit needed: safe
            sc = f.scalers_.for_series(key, values)
            ranges.check_scaled(values, sc.mean, sc.scale, targets, where)
        if past_names:
            ranges.check_scaled(past, f.scalers_.past.mean, f.scalers_.past.scale, past_names, where)

    def predict_batch(self, histories: list) -> list:
        return per_item(self._answer, arrays.forecast_many(self.estimator, histories))

    def _answer(self, f: arrays.ArrayForecast) -> ForecastPrediction:
        ranges.check_finite_output([f.point, f.lower, f.upper], "forecast")
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
        return _Window(self.estimator.history_rows_)

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
        if window.times:
            expected = calendar.future_times(window.times[-1], f.freq_, n)
        else:
            expected = times[:1].append(calendar.future_times(times[0], f.freq_, n - 1))
        if not times.equals(expected):
            i = int(np.argmax(times.values != expected.values))
            after = f"after {window.times[-1]}" if window.times else "from the first row"
            raise DataError(f"step: time[{i}]: expected {expected[i]} (regular steps of "
                                   f"frequency {f.freq_!r} {after}), got {times[i]}")
        calendar.check_future(times[-1], f.freq_, f.config.horizon)
        table = np.asarray([step.values[k] for k in self.columns], dtype=np.float64).T.reshape(n, -1)
        C = len(f.columns_["targets"])
        self._check_range(table[:, :C], table[:, C:], None, "step")
        return Prepared((times, table), n, table)

    def stage(self, window: _Window) -> _Window:
        return window.copy()

    def step_batch(self, pairs: list) -> list:
        """Round ``r`` appends row ``r`` of every session that has one and forecasts all
        full windows in one pass."""
        f = self.estimator
        L, C = f.lookback_, len(f.columns_["targets"])
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
                    outputs[i].append(self._answer(fc))  # a non-finite one fails the pass: bisected
        return [ForecastStepOutput(outputs=outputs[i], rows_seen=w.seen) for i, (w, _) in enumerate(pairs)]

