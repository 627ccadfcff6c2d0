"""Per-series standard scaling with its inverse, saved as plain numbers in the model file.

``z = (x - mean) / scale`` with ``mean`` and ``scale`` per series and column, fitted on
training data only (nothing from the future leaks in). A constant column gets scale 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class SeriesScaler:
    """``mean`` and ``scale`` of shape ``(n_series, C)``."""

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, series: list[np.ndarray]) -> "SeriesScaler":
        """Fit on a list of ``(T_i, C)`` arrays, one per series."""
        mean = np.stack([s.mean(axis=0) for s in series])
        scale = np.stack([s.std(axis=0) for s in series])
        scale = np.where(scale > 1e-12 * (1 + np.abs(mean)), scale, 1.0)
        return cls(mean.astype(np.float64), scale.astype(np.float64))

    def transform(self, values: np.ndarray, index) -> np.ndarray:
        """Scale ``values`` ``(..., C)`` of series ``index`` (an int or an array matching dim 0)."""
        return (values - _at(self.mean, index, values.ndim)) / _at(self.scale, index, values.ndim)

    def inverse(self, values: np.ndarray, index) -> np.ndarray:
        return values * _at(self.scale, index, values.ndim) + _at(self.mean, index, values.ndim)

    def inverse_scale(self, values: np.ndarray, index) -> np.ndarray:
        """Undo the scale only (for spreads such as a standard deviation)."""
        return values * _at(self.scale, index, values.ndim)

    def to_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> "SeriesScaler":
        return cls(np.asarray(d["mean"], dtype=np.float64), np.asarray(d["scale"], dtype=np.float64))


def _at(stat: np.ndarray, index, ndim: int) -> np.ndarray:
    """``stat[index]`` shaped to broadcast against values of rank ``ndim``.

    An int index broadcasts over ``(..., C)``; an array index ``(W,)`` becomes
    ``(W, 1, ..., 1, C)`` to match values ``(W, ..., C)``.
    """
    picked = stat[index]
    if np.ndim(index) == 0:
        return picked
    return picked.reshape((picked.shape[0],) + (1,) * (ndim - 2) + (picked.shape[-1],))
