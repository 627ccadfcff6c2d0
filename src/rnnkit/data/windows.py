"""Sliding windows over a series: ``lookback`` steps in, ``horizon`` steps out.

For a series of ``T`` steps the window starting at ``s`` has inputs ``[s, s + lookback)``
and targets ``[s + lookback, s + lookback + horizon)``; the forecast origin is
``s + lookback`` (the first step not seen). Windows are views, not copies.
"""

from __future__ import annotations

import numpy as np


def window_starts(length: int, lookback: int, horizon: int, stride: int = 1) -> np.ndarray:
    """Start indices of every full window in a series of ``length`` steps."""
    last = length - lookback - horizon
    if last < 0:
        return np.zeros(0, dtype=np.int64)
    return np.arange(0, last + 1, stride, dtype=np.int64)


def sliding(values: np.ndarray, size: int) -> np.ndarray:
    """All windows of ``size`` steps along axis 0: ``(T, C) -> (T - size + 1, size, C)``."""
    view = np.lib.stride_tricks.sliding_window_view(values, size, axis=0)  # (W, C, size)
    return np.moveaxis(view, -1, 1)


def take_windows(values: np.ndarray, starts: np.ndarray, size: int, offset: int = 0) -> np.ndarray:
    """Windows of ``size`` steps beginning at ``starts + offset``: ``(len(starts), size, C)``."""
    return sliding(values, size)[starts + offset]
