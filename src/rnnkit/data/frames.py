"""From a user's table (DataFrame, CSV or Parquet) to clean, regular numeric series.

:func:`read_series` validates everything a forecaster or detector needs and says exactly
what is wrong otherwise: an empty file, a missing or misspelled column (with the nearest
name while fitting; with the file's columns when a fitted model needs it), a time column
that does not parse, non-numeric values, duplicate timestamps, missing values and
irregular timestamps (naming the rows and the options ``fill="interpolate"`` and ``freq=``).

:func:`select_split` picks the rows to score from a table with a ``split`` column, and
:func:`require_columns` checks the columns a file layout needs (a panel, a table of texts).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rnnkit.data import calendar
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


def read_table(data, encoding: str = "utf-8") -> pd.DataFrame:
    """A DataFrame from a DataFrame or a CSV (decoded with ``encoding``) / Parquet path,
    refusing empty input."""
    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, (str, Path)):
        frame = _read_path(Path(data), encoding)
    else:
        raise DataError(problem("data", expected="a pandas DataFrame or a CSV/Parquet path",
                                got=type(data).__name__))
    if frame.empty:
        raise DataError("data is empty: no rows (check the file or the filter that made it)")
    return frame


def _read_path(path: Path, encoding: str) -> pd.DataFrame:
    if not path.exists():
        raise DataError(f"data file {str(path)!r} does not exist (check the path)")
    if path.stat().st_size == 0:
        raise DataError(f"data file {str(path)!r} is empty (0 bytes)")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path, encoding=encoding)
    except pd.errors.EmptyDataError as err:
        raise DataError(f"data file {str(path)!r} has no columns: {err}") from err
    except UnicodeDecodeError as err:
        raise DataError(problem(f"data file {str(path)!r}", expected=f"{encoding} text",
                                got=f"the byte {err.object[err.start:err.start + 1]!r}, not valid "
                                    f"{encoding} ({err.reason})",
                                fix='pass the file\'s encoding, e.g. encoding="latin-1" or '
                                    'encoding="cp1252", or re-save the file as UTF-8')) from None
    except LookupError:
        raise DataError(problem("data file encoding", expected="a codec Python knows (e.g. "
                                "'utf-8', 'latin-1')", got=repr(encoding))) from None
    except (pd.errors.ParserError, ValueError) as err:
        raise DataError(f"data file {str(path)!r} could not be read as "
                        f"{'Parquet' if path.suffix.lower() in ('.parquet', '.pq') else 'CSV'}: "
                        f"{err}") from err


def select_split(frame: pd.DataFrame, split: str | None = None, where: str = "data"
                 ) -> tuple[pd.DataFrame, str | None]:
    """The rows to score, and a note that says which when not all (for the report).

    ``split=None`` (automatic): with a ``split`` column that has ``test`` rows, only those
    (an exported data set holds its training rows too); otherwise every row. ``"all"``:
    every row. Any other value: the rows of that split (the table needs the column)."""
    column = frame["split"].astype(str) if "split" in frame.columns else None
    if split == "all" or (split is None and (column is None or not (column == "test").any())):
        return frame, None
    split = split or "test"
    if column is None:
        raise DataError(problem(f"{where}: split {split!r}", expected="a 'split' column",
                                got=f"columns {[str(c) for c in frame.columns]}",
                                fix="leave the split out (or pass 'all') to score every row"))
    chosen = frame[column == split]
    if chosen.empty:
        raise DataError(problem(f"{where}: split {split!r}", expected="rows of that split",
                                got=f"none; the split column holds {sorted(column.unique())[:10]}",
                                fix="choose one of those, or 'all' for every row"))
    return chosen, f"the rows with split == {split!r} ({len(chosen)} of {len(frame)})"


def check_columns(frame: pd.DataFrame, names: list[str], role: str, *, model: str | None = None,
                  source=None) -> None:
    """Every name must be a column. While fitting (``model`` None) an unknown one gets the
    nearest valid name; when a fitted ``model`` (e.g. ``"Forecaster"``) needs it, the error
    says the data lacks the model's column and lists the columns the data has."""
    missing = [name for name in names if name not in frame.columns]
    if not missing:
        return
    if model is None:
        raise DataError(unknown_name(f"{role} column", missing[0], map(str, frame.columns)))
    where = f"file {str(source)!r}" if isinstance(source, (str, Path)) else "data"
    their = "columns " + ", ".join(map(repr, missing)) if len(missing) > 1 else f"column {missing[0]!r}"
    raise DataError(f"{where} lacks the {their} that this {model} was fitted with; the {where.split()[0]} "
                    f"has: {', '.join(map(str, frame.columns))} (rename a column to "
                    f"{missing[0]!r}, or use a file with the model's columns)")


def require_columns(frame: pd.DataFrame, names: list[str], what: str, source=None) -> None:
    """The columns a file layout needs (``what``, e.g. ``"a panel table"``): a missing one is
    an error that names the layout's columns and lists the file's."""
    missing = [name for name in names if name not in frame.columns]
    if missing:
        where = f"file {str(source)!r}" if isinstance(source, (str, Path)) else "data"
        raise DataError(f"{where} has no column {missing[0]!r}: {what} needs the columns "
                        f"{', '.join(names)}; the {where.split()[0]} has: "
                        f"{', '.join(map(str, frame.columns))}")


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
    """``frame[time]`` as datetimes inside pandas' range (see :func:`calendar.parse_times`)."""
    times = calendar.parse_times(frame[time], f"time column {time!r}")
    return pd.Series(times, index=frame.index, name=time)


def read_series(data, *, time: str, targets: list[str], id: str | None = None,
                past: list[str] = (), static: list[str] = (), freq: str | None = None,
                fill: str | None = None, model: str | None = None) -> SeriesSet:
    """Validate ``data`` and return regular, complete series (see the module docstring).
    ``model`` names the fitted estimator that needs these columns (for its error message)."""
    if fill not in FILLS:
        raise DataError(unknown_name("fill", str(fill), [str(f) for f in FILLS]))
    frame = read_table(data)
    names = [time, *targets, *past, *static] + ([id] if id else [])
    check_columns(frame, names, "data", model=model, source=data)
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
