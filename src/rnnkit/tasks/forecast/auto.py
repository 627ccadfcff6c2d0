"""The forecaster's automatic settings: what ``fit`` chooses from the data when a setting
is left at ``None`` / ``"auto"``.

For training series ``y_1..y_T`` (the shortest ``T_min``, ``W`` training windows in all),
horizon ``H`` and seasonal period ``m`` (from the frequency unless set):

* **lookback** ``L = max(2H, 3m [m > 1], 10)``, at most 400 steps and at most
  ``max(4, (T - H) // 3)`` for one series of length ``T``, so that a short series still
  yields many windows; for a panel at most ``T_med - H`` with ``T_med`` the median length
  (shorter series' windows are padded with their first value);
* **transform**: ``log`` when every value is positive and the spread grows with the level:
  over blocks of ``b = max(m, 4)`` steps, the slope ``β`` of ``log sd_k`` on ``log mean_k``
  (``sd_k`` of the block's first differences) is above ``0.5`` — Box–Cox's power
  ``λ ≈ 1 - β`` is then nearer 0 (log) than 1 (none) — and the block means span a factor
  of at least 1.5 (a level that barely moves says nothing about the relation);
* **steps** (optimizer updates) ``S = 600 · max(1, W / B)^0.3``, at most 5,000: a
  100-point series gets 600 updates, 100,000 windows about 5,000 (2–3 passes); an epoch
  is ``max(⌈W / B⌉, 25)`` updates (small data are sampled with replacement), so early
  stopping's patience means the same on every size;
* **ensemble**: 5 members where ``W ≤ 2,000``, 3 where ``W ≤ 20,000``, else 1.

Every choice is reported by :attr:`Forecaster.settings_` and can be set by hand.
"""

from __future__ import annotations

import math

import numpy as np

MAX_AUTO_LOOKBACK = 400
MAX_AUTO_STEPS = 5000
MIN_EPOCH_STEPS = 25
LOG_SLOPE = 0.5  # spread ∝ level^β with β above this: log
LEVEL_SPAN = 1.5  # the block means must span this factor to tell


def lookback(horizon: int, season: int, length: int, panel: bool = False) -> int:
    """``max(2H, 3m, 10)`` capped at 400 and at :func:`lookback_cap`."""
    want = max(2 * horizon, 3 * season if season > 1 else 0, 10)
    return int(min(want, MAX_AUTO_LOOKBACK, lookback_cap(horizon, length, panel)))


def lookback_cap(horizon: int, length: int, panel: bool = False) -> int:
    """The longest automatic lookback: a third of ``T - H`` for one series of length ``T``
    (many windows from one history); ``T - H`` for a panel whose median length is ``T``
    (a global model gets its windows from many series, and shorter ones are padded)."""
    return max(4, length - horizon if panel else (length - horizon) // 3)


def spread_slope(values: np.ndarray, season: int) -> float:
    """``β``: slope of the log spread of first differences on the log level over blocks of
    ``max(m, 4)`` steps; NaN with fewer than 3 blocks, values ≤ 0 or a flat level."""
    v = np.asarray(values, dtype=np.float64).ravel()
    b = max(season, 4)
    n = len(v) // b
    if n < 3 or (v <= 0).any():
        return math.nan
    blocks = v[len(v) - n * b:].reshape(n, b)
    level = blocks.mean(axis=1)
    spread = np.abs(np.diff(blocks, axis=1)).mean(axis=1)
    ok = spread > 0
    if ok.sum() < 3 or level[ok].max() / level[ok].min() < LEVEL_SPAN:
        return math.nan
    x, y = np.log(level[ok]), np.log(spread[ok])
    return float(np.polyfit(x, y, 1)[0])


def transform(series_values: list[np.ndarray], season: int) -> str | None:
    """``"log"`` when every series is positive and, on the median over series, its spread
    grows with its level (:func:`spread_slope` above 0.5); else None."""
    slopes = []
    for v in series_values:
        if (np.asarray(v) <= 0).any():
            return None
        slopes += [spread_slope(v[:, c], season) for c in range(v.shape[1])]
    slopes = [s for s in slopes if not math.isnan(s)]
    return "log" if slopes and float(np.median(slopes)) > LOG_SLOPE else None


def steps(windows: int, batch_size: int) -> int:
    """Optimizer updates for ``windows`` training windows: ``600 · max(1, W/B)^0.3``, ≤ 5,000."""
    return int(min(MAX_AUTO_STEPS, round(600 * max(1.0, windows / batch_size) ** 0.3)))


def epoch_steps(windows: int, batch_size: int) -> int:
    """Updates per epoch: one pass, or 25 sampled batches where a pass is shorter."""
    return max(math.ceil(windows / batch_size), MIN_EPOCH_STEPS)


def ensemble(windows: int) -> int:
    """Members of the default ensemble: 5 up to 2,000 windows, 3 up to 20,000, else 1."""
    return 5 if windows <= 2000 else 3 if windows <= 20000 else 1


def member_lookbacks(base: int, members: int, longest: int) -> list[int]:
    """Lookbacks of the ensemble members: ``L`` and multiples ``0.75, 1.5, 0.5, 1.25`` of
    it (N-BEATS' ensemble over lookback lengths), each at least 4 and at most ``longest``."""
    factors = (1.0, 0.75, 1.5, 0.5, 1.25)
    return [int(min(max(4, round(base * factors[k % len(factors)])), longest)) for k in range(members)]
