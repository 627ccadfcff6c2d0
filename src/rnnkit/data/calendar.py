"""Calendar features derived from timestamps: known in advance, so usable for the future.

Each periodic feature is a sine/cosine pair so that December sits next to January.
Which ones are used depends on the series' frequency: hourly data gets hour-of-day and
day-of-week, daily data day-of-week and day-of-year, weekly week-of-year, monthly
month-of-year. Features of a period not longer than one step are dropped (they would be
constant).

Timestamps live in pandas' ``datetime64[ns]``, which spans :data:`FIRST_TIME` ..
:data:`LAST_TIME` (1677-09-21 00:12:43 .. 2262-04-11 23:47:16). numpy and integer
arithmetic wrap around silently past those ends, so every path that parses timestamps goes
through :func:`parse_times` and every path that extends them through :func:`future_times`:
both raise one :class:`~rnnkit.errors.DataError` line instead of answering with times that
wrapped around to the other end of the range.
"""

from __future__ import annotations

import warnings
from functools import lru_cache

import numpy as np
import pandas as pd

from rnnkit.errors import DataError, problem

FIRST_TIME = pd.Timestamp.min  # 1677-09-21 00:12:43.145224193, the first datetime64[ns]
LAST_TIME = pd.Timestamp.max  # 2262-04-11 23:47:16.854775807, the last datetime64[ns]
RANGE_TEXT = (f"times from {FIRST_TIME.ceil('s')} to {LAST_TIME.floor('s')} "
              "(the range of pandas' datetime64[ns])")


# numpy converts datetime64[ns] near the start of its range wrongly (1677-09-22 ->
# astype("datetime64[D]") gives 2262-04-11), so days and minutes come from the integer
# nanoseconds by floor division, and coarser units from those days.
_NS_PER_MINUTE, _NS_PER_DAY = 60 * 10**9, 86_400 * 10**9


def _days(t: np.ndarray) -> np.ndarray:  # datetime64[D] of datetime64[ns] timestamps
    return (t.view(np.int64) // _NS_PER_DAY).astype("datetime64[D]")


def _hour(t: np.ndarray) -> np.ndarray:  # hour + minute / 60
    return (t.view(np.int64) // _NS_PER_MINUTE % 1440) / 60.0


def _dayofweek(t: np.ndarray) -> np.ndarray:  # Monday = 0; 1970-01-01 was a Thursday
    return (t.view(np.int64) // _NS_PER_DAY + 3) % 7


def _dayofyear(t: np.ndarray) -> np.ndarray:  # 0-based
    days = _days(t)
    return (days - days.astype("datetime64[Y]")).astype(np.int64)


def _month(t: np.ndarray) -> np.ndarray:  # 0-based
    return _days(t).astype("datetime64[M]").astype(np.int64) % 12


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


def check_future(last: pd.Timestamp, freq: str, steps: int) -> None:
    """Raise the :class:`~rnnkit.errors.DataError` of :func:`future_times` when ``steps``
    steps of ``freq`` after ``last`` would pass :data:`LAST_TIME`, without building the
    timestamps when the step is fixed (a server checks every instance before queuing it)."""
    last = pd.Timestamp(last)
    if fixed_step_ns(freq) is not None and last.tz is None:
        _fixed_start(last, freq, steps)
    else:
        future_times(last, freq, steps)


def _fixed_start(last: pd.Timestamp, freq: str, steps: int) -> int:
    """``last`` in ns, after checking that it and ``steps`` fixed steps after it are in range."""
    _check_in_range(last, "the input's last time")
    step = fixed_step_ns(freq)
    start = last.as_unit("ns").value
    if start + step * steps > LAST_TIME.value:  # Python ints: this sum cannot overflow
        raise DataError(_past_the_end(last, freq, steps, LAST_TIME.value - step * steps))
    return start


def future_times(last: pd.Timestamp, freq: str, steps: int) -> pd.DatetimeIndex:
    """The ``steps`` timestamps after ``last`` at frequency ``freq``.

    Raises :class:`~rnnkit.errors.DataError` when the last of them would pass
    :data:`LAST_TIME` (plain int64 arithmetic would wrap around to 1677 instead).
    """
    last = pd.Timestamp(last)
    step = fixed_step_ns(freq)
    if step is not None and last.tz is None:  # fixed steps: plain arithmetic, no date_range
        start = _fixed_start(last, freq, steps)
        stamps = start + step * np.arange(1, steps + 1, dtype=np.int64)
        return pd.DatetimeIndex(stamps.astype("datetime64[ns]")).as_unit(last.unit)
    _check_in_range(last, "the input's last time")
    room = (LAST_TIME.value - _naive(pd.DatetimeIndex([last]))[0].as_unit("ns").value) / 86400e9  # days:
    #   in plain ns, as a Timedelta holds at most 292 years (monthly data from 1949)
    if step_days(freq) * (steps - 2) > room:  # surely past the end: refuse before allocating
        raise DataError(_past_the_end(last, freq, steps))
    try:
        times = pd.date_range(start=last, periods=steps + 1, freq=freq)[1:]
    except (OverflowError, pd.errors.OutOfBoundsDatetime):
        raise DataError(_past_the_end(last, freq, steps)) from None
    if len(times) and _naive(times)[-1] > LAST_TIME:
        raise DataError(_past_the_end(last, freq, steps))
    return times


def _past_the_end(last: pd.Timestamp, freq: str, steps: int, latest_ns: int | None = None) -> str:
    if latest_ns is not None and latest_ns < FIRST_TIME.value:
        latest_ns = None  # no input at all can be forecast this far
    latest = (f"input that ends by {pd.Timestamp(latest_ns).floor('s')}" if latest_ns is not None
              else f"input that ends at least {steps} steps of {freq!r} before that")
    return (f"input ends at {last}; a horizon of {steps} steps of {freq!r} would end after "
            f"{LAST_TIME.floor('s')}, the last time pandas can represent: expected {latest}, got "
            f"input ending {last} (shift all timestamps back, e.g. by whole centuries, or "
            "forecast fewer steps)")


def _check_in_range(stamp: pd.Timestamp, what: str) -> None:
    naive = stamp.tz_convert(None) if stamp.tz is not None else stamp
    if naive is pd.NaT or not FIRST_TIME <= naive <= LAST_TIME:
        raise DataError(problem(what, expected=RANGE_TEXT, got=str(stamp),
                                fix="shift all timestamps into that range"))


def _naive(times: pd.DatetimeIndex) -> pd.DatetimeIndex:
    return times.tz_convert(None) if times.tz is not None else times


def parse_times(values, column: str, *, iso: bool = False) -> pd.DatetimeIndex:
    """``values`` (a Series, array or list of strings, datetimes or datetime64) as a
    DatetimeIndex, every time inside :data:`FIRST_TIME` .. :data:`LAST_TIME`.

    ``column`` names the values in messages (``"time column 'date'"``, ``"step: time"``).
    ``iso=False`` (tables) parses as ``pd.to_datetime`` does, keeping time zones and the
    unit pandas picks; ``iso=True`` (a server's JSON) accepts ISO 8601 only, returns naive
    times (a zone offset is dropped, the wall time kept), plain stamps through numpy's C
    parser (about 8x faster than pandas). Missing values stay NaT (the caller decides).
    A time that does not parse, or lies outside the range, is one DataError line naming
    ``column``, the value (and its row) and the range.
    """
    raw = values if isinstance(values, (pd.Series, pd.Index, np.ndarray)) else list(values)
    if iso:
        times = _parse_iso(raw, column)
        if times.dtype == "datetime64[ns]" and times.tz is None:
            return times  # datetime64[ns] holds nothing outside the range (wraps were refused)
    else:
        try:
            times = pd.DatetimeIndex(pd.to_datetime(raw))
        except pd.errors.OutOfBoundsDatetime as err:
            raise DataError(problem(column, expected=RANGE_TEXT, got=str(err),
                                    fix="drop or correct the rows outside that range")) from None
        except (ValueError, TypeError, OverflowError) as err:
            raise DataError(f"{column} does not parse as dates: {_first_line(err)} (use ISO dates such as "
                            "2024-01-31 or 2024-01-31 13:00)") from None
    _check_range(times, raw, column)
    return times


def _parse_iso(raw, column: str) -> pd.DatetimeIndex:
    ns = None
    if isinstance(raw, list) and raw and set(map(type, raw)) == {str}:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # numpy warns on a zone offset: let pandas read those
            try:
                ns = _numpy_ns(raw, column)
            except (ValueError, TypeError, OverflowError, UserWarning, DeprecationWarning):
                ns = None
    if ns is not None:
        return pd.DatetimeIndex(ns)
    try:
        times = pd.DatetimeIndex(pd.to_datetime(raw, format="ISO8601"))
    except (ValueError, TypeError, OverflowError) as err:
        raise DataError(problem(column, expected="ISO timestamps such as 2024-01-31",
                                got=_first_line(err))) from None
    return times.tz_localize(None) if times.tz is not None else times


def _numpy_ns(raw: list[str], column: str) -> np.ndarray:
    """ISO strings -> datetime64[ns] by numpy's C parser, refusing what lies outside the
    range (numpy wraps those around silently in nanoseconds, not in microseconds): strings
    of at most microsecond precision are parsed once, in microseconds, range-checked in
    integers and converted exactly; longer ones also in nanoseconds, and compared."""
    us = np.array(raw, dtype="datetime64[us]")
    ints = us.view(np.int64)
    low, high = -(-FIRST_TIME.value // 1000), LAST_TIME.value // 1000
    outside = ((ints < low) | (ints > high)) & ~np.isnat(us)
    if outside.any():
        _refuse(raw, column, np.flatnonzero(outside))
    if max(map(len, raw)) <= len("2000-01-01T00:00:00.000000"):
        return us.astype("datetime64[ns]")
    ns = np.array(raw, dtype="datetime64[ns]")
    wrapped = np.isnat(ns) != np.isnat(us)  # the last nanoseconds wrap onto NaT's own value
    wrapped |= ~np.isnat(ns) & (ns.view(np.int64) // 1000 != ints)  # else floor(ns / 1000) == us
    if wrapped.any():
        _refuse(raw, column, np.flatnonzero(wrapped))
    return ns


def _first_line(err: BaseException) -> str:
    """pandas' parse errors go on for lines of advice: the first says what is wrong."""
    lines = str(err).strip().splitlines() or [type(err).__name__]
    return lines[0].removesuffix(" You might want to try:").strip()


def _check_range(times: pd.DatetimeIndex, raw, column: str) -> None:
    """In integers of the index's own unit (numpy's unit conversions near the ends of the
    range are not to be trusted): the bounds rounded inwards, NaT left alone."""
    values = _naive(times).to_numpy()
    unit, count = np.datetime_data(values.dtype)
    per = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[unit] * count
    ints = values.view(np.int64)
    low, high = -(-FIRST_TIME.value // per), LAST_TIME.value // per
    outside = ((ints < low) | (ints > high)) & ~np.isnat(values)
    if outside.any():
        _refuse(raw, column, np.flatnonzero(outside))


def _refuse(raw, column: str, rows: np.ndarray) -> None:
    i = int(rows[0])
    if isinstance(raw, pd.Series):
        where, value = f"{column}, row {raw.index[i]!r}", raw.iloc[i]
    elif len(raw) == 1:
        where, value = column, raw[0]
    else:
        where, value = f"{column}[{i}]", raw[i]
    more = f" and {len(rows) - 1} more outside it" if len(rows) > 1 else ""
    raise DataError(problem(where, expected=RANGE_TEXT,
                            got=(repr(value) if isinstance(value, str) else str(value)) + more,
                            fix="drop or correct the times outside that range, or shift all "
                                "times into it"))


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
