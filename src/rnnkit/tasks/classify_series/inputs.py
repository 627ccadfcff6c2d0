"""Checking what users pass to the series classifier: series, labels, channel counts.

Every message says what is wrong, what was expected, what was got and the fix, and names
the sequence (``X[i]``), step and channel of a bad value.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable

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


def as_labels(y, n: int, where: str) -> list[Hashable]:
    """``y`` -> a list of ``n`` hashable labels (numpy scalars become Python values)."""
    if isinstance(y, (str, bytes)) or not hasattr(y, "__len__"):
        raise DataError(problem(f"{where}: y", expected=f"{n} labels (a list, array or Series)",
                                got=type(y).__name__))
    values = list(y.tolist() if hasattr(y, "tolist") and not isinstance(y, list) else y)
    if len(values) != n:
        raise DataError(problem(f"{where}: y", expected=f"one label per sequence ({n})",
                                got=f"{len(values)} labels"))
    for i, v in enumerate(values):
        v = v.item() if isinstance(v, np.generic) else v
        if v is None or isinstance(v, float) and math.isnan(v):
            raise DataError(problem(f"{where}: y[{i}]", expected="a label", got=repr(v),
                                    fix="drop the sequences without a label"))
        if not isinstance(v, Hashable):
            raise DataError(problem(f"{where}: y[{i}]", expected="a hashable label (str, int, ...)",
                                    got=type(v).__name__))
        values[i] = v
    return values


def encode_labels(labels: list[Hashable], where: str) -> tuple[np.ndarray, np.ndarray]:
    """Labels -> ``(classes (K,), codes (N,) int64)``; classes sorted when they sort, else in
    order of first appearance. Fewer than two classes is an error."""
    unique = list(dict.fromkeys(labels))
    try:
        unique = sorted(unique)
    except TypeError:
        pass
    if len(unique) < 2:
        raise DataError(problem(f"{where}: y", expected="at least 2 classes",
                                got=f"1 class ({unique[0]!r}) in all {len(labels)} labels",
                                fix="a classifier needs examples of two or more classes"))
    index = {label: k for k, label in enumerate(unique)}
    return class_array(unique), np.array([index[v] for v in labels], dtype=np.int64)


def class_array(classes: list) -> np.ndarray:
    """Classes as a 1-D array: its natural dtype, or dtype object for mixed or tuple labels."""
    arr = np.asarray(classes) if all(type(c) is type(classes[0]) for c in classes) else None
    if arr is None or arr.ndim != 1:
        arr = np.empty(len(classes), dtype=object)
        arr[:] = classes
    return arr
