"""Forecasts for many short histories given as arrays, in one network pass.

:meth:`Forecaster.predict` reads a table (sorting, grouping, inferring the frequency,
filling gaps), which costs milliseconds per series. A server or any caller that already
holds each series' recent rows as arrays uses :func:`history` to validate them cheaply and
:func:`forecast_many` to forecast all of them in one batch; the numbers equal
``predict`` on the same rows.

>>> h = history(f, time=["2015-12-01", ...], values={"temp_max": [...]})   # doctest: +SKIP
>>> out = forecast_many(f, [h1, h2, h3])           # one ArrayForecast per history
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from rnnkit.data import calendar
from rnnkit.data.calendar import fixed_step_ns, future_times
from rnnkit.data.frames import SeriesSet
from rnnkit.errors import DataError, problem, unknown_name


@dataclass
class History:
    """One validated series: ``times`` (T,), ``values`` (T, C), ``past`` (T, C_past), ``static`` (S,)."""

    times: pd.DatetimeIndex
    values: np.ndarray
    past: np.ndarray
    static: np.ndarray
    id: object = None


@dataclass
class ArrayForecast:
    """The next ``H`` steps of one series: ``times`` (H,), ``point`` / ``lower`` / ``upper`` (H, C)."""

    id: object
    times: pd.DatetimeIndex
    point: np.ndarray
    lower: np.ndarray | None
    upper: np.ndarray | None


def history(f, *, time, values: dict, static: dict | None = None, id=None,
            where: str = "history") -> History:
    """Validate one series' rows for forecaster ``f``: column names, lengths, finiteness,
    a regular time axis at the model's frequency and at least ``lookback`` rows."""
    c = f.columns_
    need = [*c["targets"], *c["past"]]
    unknown = [k for k in values if k not in need]
    if unknown:
        raise DataError(f"{where}: " + unknown_name("column", unknown[0], need)
                        + f" (this model reads {need})")
    missing = [k for k in need if k not in values]
    if missing:
        raise DataError(problem(f"{where}: values", expected=f"columns {need}", got=f"missing {missing}"))
    T = len(time)
    L = f.lookback_
    if T < L:
        raise DataError(problem(f"{where}: rows", expected=f">= lookback = {L}", got=T,
                                fix=f"send the last {L} or more observations"))
    for name in need:
        if len(values[name]) != T:
            raise DataError(problem(f"{where}: values[{name!r}] length", expected=f"{T} (one per time)",
                                    got=len(values[name])))
    table = np.asarray([values[k] for k in need], dtype=np.float64).T.reshape(T, len(need))  # (T, C+P)
    bad = np.argwhere(~np.isfinite(table))
    if len(bad):
        row, col = bad[0]
        raise DataError(problem(f"{where}: values[{need[col]!r}][{row}]", expected="a finite number",
                                got=table[row, col], fix="fill gaps before sending"))
    times = _times(time, f.freq_, where)
    static = _static(f, static or {}, where)
    C = len(c["targets"])
    return History(times, table[:, :C], table[:, C:], static, None if c["id"] is None else id)


def parse_times(time, where: str) -> pd.DatetimeIndex:
    """ISO 8601 strings -> a naive DatetimeIndex inside pandas' range; empty, unparsable or
    out-of-range stamps are refused (:func:`rnnkit.data.calendar.parse_times`, ``iso=True``)."""
    return _no_missing(calendar.parse_times(time, f"{where}: time", iso=True), time, where)


def _no_missing(times: pd.DatetimeIndex, raw, where: str) -> pd.DatetimeIndex:
    if times.hasnans:
        i = int(np.argmax(times.isna()))
        raise DataError(problem(f"{where}: time[{i}]", expected="a timestamp such as 2024-01-31",
                                got=repr(list(raw)[i])))
    return times


def _times(time, freq: str, where: str) -> pd.DatetimeIndex:
    times = parse_times(time, where)
    step = fixed_step_ns(freq)
    if step is not None and len(times) > 1:
        ns = times.as_unit("ns").asi8  # on the grid (floor(freq) is epoch-aligned for fixed steps)
        if ns[0] % step == 0 and (np.diff(ns) == step).all():  # and regular: the common case,
            return times  # checked without building the expected index
    expected = pd.date_range(start=times[0], periods=len(times), freq=freq)
    if not times.equals(expected):
        wrong = int(np.argmax(times.values != expected.values))
        raise DataError(problem(f"{where}: time[{wrong}]", expected=f"{expected[wrong]} (regular "
                                f"steps of frequency {freq!r}, oldest first, no gaps)",
                                got=str(times[wrong])))
    return times


def _static(f, static: dict, where: str) -> np.ndarray:
    names = f.columns_["static"]
    unknown = [k for k in static if k not in names]
    if unknown:
        raise DataError(f"{where}: " + unknown_name("static covariate", unknown[0], names or ["(none)"]))
    missing = [k for k in names if k not in static]
    if missing:
        raise DataError(problem(f"{where}: static", expected=f"values for {names}", got=f"missing {missing}"))
    out = np.array([static[k] for k in names], dtype=np.float64)
    if not np.isfinite(out).all():
        raise DataError(problem(f"{where}: static", expected="finite numbers", got=static))
    return out


def forecast_many(f, histories: list[History]) -> list[ArrayForecast]:
    """One :class:`ArrayForecast` per history, from one batched network pass."""
    f.check_fitted()
    c = f.columns_
    series = SeriesSet(ids=[h.id for h in histories], times=[h.times for h in histories],
                       values=[h.values for h in histories], past=[h.past for h in histories],
                       static=np.stack([h.static for h in histories]) if c["static"]
                       else np.zeros((len(histories), 0)),
                       freq=f.freq_, targets=list(c["targets"]), past_names=list(c["past"]),
                       static_names=list(c["static"]))
    pairs = [(i, len(h.values)) for i, h in enumerate(histories)]
    out = f.forecasts(series, pairs)
    H = f.config.horizon
    return [ArrayForecast(h.id, future_times(h.times[-1], f.freq_, H), out.point[i],
                          None if out.lower is None else out.lower[i],
                          None if out.upper is None else out.upper[i])
            for i, h in enumerate(histories)]


def training_stats(f) -> tuple[list[str], np.ndarray, np.ndarray] | None:
    """Feature names with their training mean and std (targets, then past covariates)."""
    stats = getattr(f, "input_stats_", None)
    if not stats:
        return None
    names = list(stats)
    return names, np.array([stats[k]["mean"] for k in names]), np.array([stats[k]["std"] for k in names])
