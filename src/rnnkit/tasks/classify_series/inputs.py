"""Checking what users pass to the series classifier: series and their channel counts
(labels: :mod:`rnnkit.tasks.common.labels`).

Every message says what is wrong, what was expected, what was got and the fix, and names
the sequence (``X[i]``), step and channel of a bad value.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from rnnkit.errors import DataError, ShapeError, problem

LAYOUT = "a list of (T_i, C) arrays or a 3-D array (N, T, C)"


def as_series_list(X, where: str, n_channels: int | None = None) -> list[np.ndarray]:
    """``X`` -> list of finite float64 ``(T_i, C)`` arrays with one channel count.

    A 1-D sequence is one channel ``(T,) -> (T, 1)``. ``n_channels`` (the count seen in
    ``fit``) is enforced when given.
    """
    items = _items(X, where)
    series = [_one(x, i, where) for i, x in enumerate(items)]
    expected = n_channels if n_channels is not None else series[0].shape[1]
    source = "as in fit" if n_channels is not None else "as X[0]"
    for i, s in enumerate(series):
        if s.shape[1] != expected:
            raise ShapeError(problem(f"{where}: X[{i}] channels", expected=f"{expected} ({source})",
                                     got=s.shape[1], fix="give every sequence the same channels in "
                                     "the same order, as (T, C) arrays"))
    for i, s in enumerate(series):
        _check_finite(s, i, where)
    return series


def _items(X, where: str) -> list:
    if isinstance(X, pd.DataFrame):
        raise DataError(problem(f"{where}: X", expected=LAYOUT, got="a DataFrame",
                                fix="convert an sktime nested DataFrame with rnnkit.data.panels."
                                "from_sktime(X), a long table with panel_from_frame(frame)"))
    if isinstance(X, np.ndarray) or hasattr(X, "__array__") and not isinstance(X, (list, tuple)):
        arr = np.asarray(X)
        if arr.ndim == 3:
            if arr.shape[2] > arr.shape[1] > 0:
                warnings.warn(f"{where}: X has shape {arr.shape}, read as (N, T, C): {arr.shape[1]} "
                              f"steps of {arr.shape[2]} channels; sktime's numpy3D layout is (N, C, T) "
                              "— pass X.transpose(0, 2, 1) if so", UserWarning, stacklevel=4)
            items = list(arr)
        elif arr.ndim == 2:
            raise ShapeError(problem(f"{where}: X", expected=LAYOUT, got=f"a 2-D array {arr.shape}",
                                     fix="for N univariate series of equal length use X[:, :, None]"))
        else:
            raise ShapeError(problem(f"{where}: X", expected=LAYOUT, got=f"a {arr.ndim}-D array"))
    elif isinstance(X, (list, tuple)):
        items = list(X)
    else:
        raise DataError(problem(f"{where}: X", expected=LAYOUT, got=type(X).__name__,
                                fix="for sktime panels use rnnkit.data.panels.from_sktime(X)"))
    if not items:
        raise DataError(problem(f"{where}: X", expected="at least one sequence", got="none"))
    return items


def _one(x, i: int, where: str) -> np.ndarray:
    try:
        s = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise DataError(problem(f"{where}: X[{i}]", expected="numbers", got=f"{type(x).__name__} "
                                f"({err})", fix="convert the values to floats")) from None
    if s.ndim == 1:
        s = s[:, None]  # (T,) -> (T, 1)
    if s.ndim != 2:
        raise ShapeError(problem(f"{where}: X[{i}] shape", expected="(T, C) or (T,)", got=s.shape))
    if s.shape[0] == 0:
        raise DataError(problem(f"{where}: X[{i}] length", expected=">= 1 step", got="an empty "
                                "sequence (0 steps)", fix="drop empty sequences"))
    if s.shape[1] == 0:
        raise ShapeError(problem(f"{where}: X[{i}] channels", expected=">= 1", got=0))
    return s


def _check_finite(s: np.ndarray, i: int, where: str) -> None:
    bad = ~np.isfinite(s)
    if bad.any():
        t, c = (int(v) for v in np.argwhere(bad)[0])
        raise DataError(problem(f"{where}: X[{i}] at step {t}, channel {c}", expected="finite values",
                                got=s[t, c], fix="fill or drop missing values before the classifier"))
