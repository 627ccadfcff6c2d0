"""Calendar features derived from timestamps: known in advance, so usable for the future.

Each periodic feature is a sine/cosine pair so that December sits next to January.
Which ones are used depends on the series' frequency: hourly data gets hour-of-day and
day-of-week, daily data day-of-week and day-of-year, weekly week-of-year, monthly
month-of-year. Features of a period not longer than one step are dropped (they would be
constant).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd


def _hour(t: np.ndarray) -> np.ndarray:  # hour + minute / 60
    return (t.astype("datetime64[m]").astype(np.int64) % 1440) / 60.0


def _dayofweek(t: np.ndarray) -> np.ndarray:  # Monday = 0; 1970-01-01 was a Thursday
    return (t.astype("datetime64[D]").astype(np.int64) + 3) % 7


def _dayofyear(t: np.ndarray) -> np.ndarray:  # 0-based
    return (t.astype("datetime64[D]") - t.astype("datetime64[Y]")).astype(np.int64)


def _month(t: np.ndarray) -> np.ndarray:  # 0-based
    return t.astype("datetime64[M]").astype(np.int64) % 12


# (name, period in days, value of datetime64[ns] timestamps, cycle length in that value)
_CYCLES = [
    ("hour", 1.0, _hour, 24.0),
    ("dayofweek", 7.0, _dayofweek, 7.0),
    ("dayofyear", 365.25, _dayofyear, 365.25),
    ("month", 365.25, _month, 12.0),
]


@lru_cache(maxsize=256)
def step_days(freq: str) -> float:
    """Length of one step of ``freq`` in days (a month counts 30.4)."""
    offset = pd.tseries.frequencies.to_offset(freq)
    try:
        return pd.Timedelta(offset).total_seconds() / 86400.0
    except ValueError:  # non-fixed offsets: months, quarters, years
        start = pd.Timestamp("2001-01-01")
        return ((start + offset * 12) - start).total_seconds() / 86400.0 / 12


def feature_names(freq: str) -> list[str]:
    """Names of the calendar features for a frequency, each a ``_sin``/``_cos`` pair."""
    return list(_feature_names(freq))


@lru_cache(maxsize=256)
def _feature_names(freq: str) -> tuple[str, ...]:
    step = step_days(freq)
    names = []
    for name, period, _, _ in _CYCLES:
        yearly = name in ("dayofyear", "month")
        if yearly and (name == "month") != (step > 20):  # one yearly cycle: the finer one that fits
            continue
        if period > 1.5 * step:
            names += [f"{name}_sin", f"{name}_cos"]
    return tuple(names)


def calendar_features(times: pd.DatetimeIndex, freq: str) -> np.ndarray:
    """``(T, F)`` float32 features of ``times`` for :func:`feature_names` of ``freq``."""
    wanted = _feature_names(freq)
    stamps = np.asarray(times, dtype="datetime64[ns]")  # numpy calendar math: no pandas per call
    columns = []
    for name, _, value, cycle in _CYCLES:
        if f"{name}_sin" in wanted:
            angle = 2 * np.pi * np.asarray(value(stamps), dtype=np.float64) / cycle
            columns += [np.sin(angle), np.cos(angle)]
    if not columns:
        return np.zeros((len(times), 0), dtype=np.float32)
    return np.stack(columns, axis=1).astype(np.float32)


def future_times(last: pd.Timestamp, freq: str, steps: int) -> pd.DatetimeIndex:
    """The ``steps`` timestamps after ``last`` at frequency ``freq``."""
    step = fixed_step_ns(freq)
    if step is not None and last.tz is None:  # fixed steps: plain arithmetic, no date_range
        start = pd.Timestamp(last).as_unit("ns").value
        stamps = start + step * np.arange(1, steps + 1, dtype=np.int64)
        return pd.DatetimeIndex(stamps.astype("datetime64[ns]")).as_unit(pd.Timestamp(last).unit)
    return pd.date_range(start=last, periods=steps + 1, freq=freq)[1:]


@lru_cache(maxsize=64)
def fixed_step_ns(freq: str) -> int | None:
    """The length of one step of ``freq`` in nanoseconds when every step has the same length
    (ticks: seconds, minutes, hours; days, counted as 24 hours on naive timestamps), else
    None (months, weekday-anchored weeks, business days, ...).

    >>> fixed_step_ns("h"), fixed_step_ns("2D"), fixed_step_ns("MS")
    (3600000000000, 172800000000000, None)
    """
    offset = pd.tseries.frequencies.to_offset(freq)
    if type(offset) is pd.offsets.Day:  # naive timestamps: a day is 24 hours
        return offset.n * 86_400 * 10**9
    if not isinstance(offset, pd.offsets.Tick):
        return None
    return int(pd.Timedelta(offset).value)
