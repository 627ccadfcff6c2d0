"""From a user's table (DataFrame, CSV or Parquet) to clean, regular numeric series.

:func:`read_series` validates everything a forecaster or detector needs and says exactly
what is wrong otherwise: an empty file, a missing or misspelled column (with the nearest
name), a time column that does not parse, non-numeric values, duplicate timestamps,
missing values and irregular timestamps (naming the rows and the options
``fill="interpolate"`` and ``freq=``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rnnkit.errors import DataError, problem, unknown_name

FILLS = (None, "interpolate", "ffill", "zero")


@dataclass
class SeriesSet:
    """Regular series, one entry per id, all with the same columns.

    ``values[i]`` ``(T_i, C)`` targets; ``past[i]`` ``(T_i, C_past)`` past covariates;
    ``times[i]`` the DatetimeIndex; ``static`` ``(n_series, S)``.
    """

    ids: list
    times: list[pd.DatetimeIndex]
    values: list[np.ndarray]
    past: list[np.ndarray]
    static: np.ndarray
    freq: str
    targets: list[str]
    past_names: list[str]
    static_names: list[str]

    def __len__(self) -> int:
        return len(self.ids)


def read_table(data) -> pd.DataFrame:
    """A DataFrame from a DataFrame or a CSV / Parquet path, refusing empty input."""
    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, (str, Path)):
        frame = _read_path(Path(data))
    else:
        raise DataError(problem("data", expected="a pandas DataFrame or a CSV/Parquet path",
                                got=type(data).__name__))
    if frame.empty:
        raise DataError("data is empty: no rows (check the file or the filter that made it)")
    return frame


def _read_path(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise DataError(f"data file {str(path)!r} does not exist (check the path)")
    if path.stat().st_size == 0:
        raise DataError(f"data file {str(path)!r} is empty (0 bytes)")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except pd.errors.EmptyDataError as err:
        raise DataError(f"data file {str(path)!r} has no columns: {err}") from err
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as err:
        raise DataError(f"data file {str(path)!r} could not be read as "
                        f"{'Parquet' if path.suffix.lower() in ('.parquet', '.pq') else 'CSV'}: "
                        f"{err}") from err


def check_columns(frame: pd.DataFrame, names: list[str], role: str) -> None:
    """Every name must be a column; an unknown one gets the nearest valid name."""
    for name in names:
        if name not in frame.columns:
            raise DataError(unknown_name(f"{role} column", name, map(str, frame.columns)))


def numeric_column(frame: pd.DataFrame, name: str) -> pd.Series:
    """``frame[name]`` as float64; text that is not a number is an error naming the rows."""
    col = frame[name]
    converted = pd.to_numeric(col, errors="coerce")
    bad = converted.isna() & col.notna()
    if bad.any():
        rows = list(frame.index[bad][:5])
        values = [col[r] for r in rows]
        raise DataError(problem(f"column {name!r}", expected="numbers", got=f"{values!r} in rows {rows}",
                                fix="clean or drop those rows"))
    return converted.astype(np.float64)


def parse_times(frame: pd.DataFrame, time: str) -> pd.Series:
    try:
        return pd.to_datetime(frame[time])
    except (ValueError, TypeError) as err:
        raise DataError(f"time column {time!r} does not parse as dates: {err} "
                        "(use ISO dates such as 2024-01-31 or 2024-01-31 13:00)") from err


def read_series(data, *, time: str, targets: list[str], id: str | None = None,
                past: list[str] = (), static: list[str] = (), freq: str | None = None,
                fill: str | None = None) -> SeriesSet:
    """Validate ``data`` and return regular, complete series (see the module docstring)."""
    if fill not in FILLS:
        raise DataError(unknown_name("fill", str(fill), [str(f) for f in FILLS]))
    frame = read_table(data)
    names = [time, *targets, *past, *static] + ([id] if id else [])
    check_columns(frame, names, "data")
    frame = frame.copy()
    frame[time] = parse_times(frame, time)
    for name in [*targets, *past, *static]:
        frame[name] = numeric_column(frame, name)
    groups = [(None, frame)] if id is None else list(frame.groupby(id, sort=True))
    out = _empty(targets, past, static)
    for key, group in groups:
        _add_series(out, key, group, time, targets, past, static, freq, fill)
    out.freq = out.freq or freq
    out.static = np.asarray(out.static, dtype=np.float64).reshape(len(out.ids), len(static))
    return out


def _empty(targets, past, static) -> SeriesSet:
    return SeriesSet([], [], [], [], [], "", list(targets), list(past), list(static))


def _add_series(out: SeriesSet, key, group: pd.DataFrame, time: str, targets, past, static,
                freq, fill) -> None:
    where = "" if key is None else f" (series {key!r})"
    group = group.sort_values(time)
    dup = group[time].duplicated(keep=False)
    if dup.any():
        stamps = sorted(set(group.loc[dup, time].astype(str)))[:5]
        raise DataError(f"duplicate timestamps{where}: {stamps} (aggregate or drop duplicates "
                        "first, e.g. df.groupby(time).mean())")
    indexed = group.set_index(time)
    step = freq or _infer_freq(indexed.index, where)
    if freq is not None:
        indexed = indexed[~indexed.index.duplicated()].asfreq(freq)  # missing stamps become NaN
    columns = [*targets, *past]
    indexed[columns] = _fill_missing(indexed[columns], fill, where)
    out.ids.append(key)
    out.times.append(pd.DatetimeIndex(indexed.index))
    out.values.append(indexed[list(targets)].to_numpy(np.float64))
    out.past.append(indexed[list(past)].to_numpy(np.float64).reshape(len(indexed), len(past)))
    out.static.append([float(group[s].iloc[0]) for s in static])
    if out.freq and step != out.freq:
        raise DataError(f"series{where} has frequency {step!r}, others {out.freq!r} "
                        "(pass freq= to resample all series to one frequency)")
    out.freq = step


def _infer_freq(index: pd.DatetimeIndex, where: str) -> str:
    if len(index) < 3:
        raise DataError(f"series{where} has {len(index)} rows; at least 3 are needed to tell its frequency")
    inferred = pd.infer_freq(index)
    if inferred is not None:
        return inferred
    deltas = pd.Series(index[1:] - index[:-1], index=index[1:])
    usual = deltas.mode().iloc[0]
    odd = deltas[deltas != usual]
    rows = [f"{t} (gap {d})" for t, d in odd.head(5).items()]
    raise DataError(f"irregular timestamps{where}: most steps are {usual}, but not at {rows} "
                    "(pass freq= to resample to a regular grid, e.g. freq='D', and fill= for "
                    "the gaps it makes)")


def _fill_missing(frame: pd.DataFrame, fill: str | None, where: str) -> pd.DataFrame:
    missing = frame.isna()
    if not missing.to_numpy().any():
        return frame
    if fill is None:
        rows = frame.index[missing.any(axis=1)]
        cols = [c for c in frame.columns if missing[c].any()]
        raise DataError(f"missing values{where} in {cols} at {len(rows)} rows, first "
                        f"{[str(r) for r in rows[:5]]} (pass fill='interpolate' to interpolate, "
                        "fill='ffill' to carry the last value, or clean the data)")
    if fill == "interpolate":
        filled = frame.interpolate(method="time", limit_direction="both")
    elif fill == "ffill":
        filled = frame.ffill().bfill()
    else:
        filled = frame.fillna(0.0)
    if filled.isna().to_numpy().any():
        raise DataError(f"a column{where} is entirely missing; nothing to {fill} from")
    return filled
