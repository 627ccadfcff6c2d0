"""Forecasting baselines, each returning a point forecast and an interval.

For a history ``y_1..y_T``, horizon step ``h`` and season ``m`` (Hyndman & Athanasopoulos,
*Forecasting: Principles and Practice*, 3rd ed., §5.5 for the interval widths):

* naive: ``ŷ_{T+h} = y_T``; ``σ_h = σ √h`` with ``σ`` the spread of one-step changes;
* seasonal naive: ``ŷ_{T+h} = y_{T+h-m(k+1)}``, ``k = ⌊(h-1)/m⌋``; ``σ_h = σ √(k+1)`` with
  ``σ`` the spread of seasonal differences;
* drift: ``ŷ_{T+h} = y_T + h (y_T - y_1)/(T - 1)``; ``σ_h = σ √(h (1 + h/T))``;
* ETS: exponential smoothing with additive error, damped additive trend and additive
  seasonality when the history holds two full seasons (statsmodels ``ETSModel``) fitted
  on the last ``max(10 m, 200)`` steps, intervals from its own prediction.

Every function maps ``(history (T,), horizon, season, level) -> (point, lower, upper)``,
each ``(horizon,)``.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd

Forecast = tuple[np.ndarray, np.ndarray, np.ndarray]


def _z(level: float) -> float:
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + level / 2)


def _band(point: np.ndarray, sigma: np.ndarray, level: float) -> Forecast:
    z = _z(level)
    return point, point - z * sigma, point + z * sigma


def naive(history: np.ndarray, horizon: int, season: int, level: float) -> Forecast:
    h = np.arange(1, horizon + 1)
    sigma = np.std(np.diff(history)) if len(history) > 1 else 0.0
    return _band(np.full(horizon, history[-1]), sigma * np.sqrt(h), level)


def seasonal_naive(history: np.ndarray, horizon: int, season: int, level: float) -> Forecast:
    m = season if season and len(history) > season else 1
    h = np.arange(1, horizon + 1)
    k = (h - 1) // m
    point = history[len(history) - m + (h - 1) % m]
    diffs = history[m:] - history[:-m]
    sigma = np.std(diffs) if len(diffs) else 0.0
    return _band(point, sigma * np.sqrt(k + 1), level)


def drift(history: np.ndarray, horizon: int, season: int, level: float) -> Forecast:
    T = len(history)
    h = np.arange(1, horizon + 1)
    slope = (history[-1] - history[0]) / (T - 1) if T > 1 else 0.0
    residuals = np.diff(history) - slope
    sigma = np.std(residuals) if T > 2 else 0.0
    return _band(history[-1] + h * slope, sigma * np.sqrt(h * (1 + h / T)), level)


def ets(history: np.ndarray, horizon: int, season: int, level: float) -> Forecast:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    history = history[-max(10 * (season or 1), 200):]  # recent seasons only: fitting cost grows with T
    seasonal = "add" if season and season > 1 and len(history) >= 2 * season + 2 else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        endog = pd.Series(history.astype(np.float64))  # statsmodels' intervals need an index
        model = ETSModel(endog, error="add", trend="add", damped_trend=True,
                         seasonal=seasonal, seasonal_periods=season if seasonal else None)
        fit = model.fit(disp=False, maxiter=200)
        pred = fit.get_prediction(start=len(history), end=len(history) + horizon - 1)
        frame = pred.summary_frame(alpha=1 - level)
    point = frame["mean"].to_numpy()
    lower, upper = frame["pi_lower"].to_numpy(), frame["pi_upper"].to_numpy()
    if not (np.isfinite(point).all() and np.isfinite(lower).all() and np.isfinite(upper).all()):
        return naive(history, horizon, season, level)
    return point, lower, upper


BASELINES = {"naive": naive, "seasonal_naive": seasonal_naive, "drift": drift, "ets": ets}


def available(names) -> list[str]:
    """The baselines among ``names`` whose packages are installed (ETS needs statsmodels)."""
    out = []
    for name in names:
        if name == "ets":
            try:
                import statsmodels  # noqa: F401
            except ImportError:
                warnings.warn("the ETS baseline needs statsmodels (pip install statsmodels); skipped")
                continue
        out.append(name)
    return out


def mase_scale(history: np.ndarray, season: int) -> float:
    """Mean absolute (seasonal) difference of the history: MASE's denominator.

    A scale that is zero or only rounding noise (below ``1e-10`` of the history's mean
    magnitude: a sine sampled at its period has seasonal differences of about 1e-16, which
    would turn any error into a MASE of 1e14) is replaced by the lag-1 scale, the naive
    forecast's error; NaN (MASE undefined) when that too is degenerate (a constant history)."""
    floor = 1e-10 * float(np.mean(np.abs(history))) if len(history) else 0.0
    for m in dict.fromkeys((season if season and len(history) > season else 1, 1)):
        if len(history) > m:
            scale = float(np.mean(np.abs(history[m:] - history[:-m])))
            if scale > floor:
                return scale
    return math.nan
