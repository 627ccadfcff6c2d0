"""Input drift: running mean and spread of each input feature against training statistics.

Welford's update over every row the server sees (``n`` rows of ``F`` features)::

    n' = n + m;   delta = mean_batch - mean
    mean' = mean + delta * m / n'
    M2'   = M2 + M2_batch + delta^2 * n * m / n'          std = sqrt(M2 / n)

The drift score of feature ``f`` is ``|mean_f - train_mean_f| / train_std_f``: how many
training standard deviations the traffic's mean has moved.

Only rows of answered requests are fed in (a refused request never moves the statistics),
and an update that would make them non-finite (values whose squares overflow float64) is
skipped: one hostile request cannot leave ``std = inf`` until a restart.
"""

from __future__ import annotations

import threading

import numpy as np


class RunningStats:
    """Thread-safe running mean / std of ``F`` features (NaN-free rows only)."""

    def __init__(self, names: list[str], train_mean=None, train_std=None) -> None:
        self.names = list(names)
        F = len(self.names)
        self.n, self.mean, self.m2 = 0, np.zeros(F), np.zeros(F)
        self.train_mean = None if train_mean is None else np.asarray(train_mean, float).reshape(F)
        self.train_std = None if train_std is None else np.asarray(train_std, float).reshape(F)
        self._lock = threading.Lock()

    def update(self, rows: np.ndarray) -> None:
        """Add ``rows`` ``(m, F)``."""
        rows = np.asarray(rows, dtype=np.float64).reshape(-1, len(self.names))
        rows = rows[np.isfinite(rows).all(axis=1)]
        m = len(rows)
        if m == 0:
            return
        with np.errstate(all="ignore"):
            batch_mean = rows.mean(axis=0)
            batch_m2 = ((rows - batch_mean) ** 2).sum(axis=0)
        with self._lock, np.errstate(all="ignore"):
            n = self.n + m
            delta = batch_mean - self.mean
            mean = self.mean + delta * m / n
            m2 = self.m2 + batch_m2 + delta ** 2 * self.n * m / n
            if not (np.isfinite(mean).all() and np.isfinite(m2).all()):
                return
            self.mean, self.m2, self.n = mean, m2, n

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(self.m2 / self.n) if self.n else np.zeros(len(self.names))

    def scores(self) -> np.ndarray | None:
        """``|mean - train_mean| / train_std`` per feature, or None without training stats."""
        if self.train_mean is None or self.train_std is None or not self.n:
            return None
        spread = np.where(self.train_std > 1e-12, self.train_std, 1.0)
        return np.abs(self.mean - self.train_mean) / spread
