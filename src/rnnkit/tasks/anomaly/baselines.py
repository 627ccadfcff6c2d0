"""Baselines scored in the same table as the detector.

Both take the raw series ``x`` ``(T, C)`` and return ``(scores (T,), flags (T,))``; points
without enough history get score NaN and no flag.

* rolling z-score: with the mean ``m_t`` and standard deviation ``s_t`` of the previous
  ``window`` values of each channel (the current one excluded),
  ``score_t = max_c |x_{t,c} - m_{t,c}| / s_{t,c}`` and ``flag_t = score_t > z``.
* isolation forest (Liu et al. 2008; needs scikit-learn): the windows of ``window`` steps
  ending at each point, each channel standardized with the training statistics and the
  window's own mean removed (shape, not level), flattened; the forest is fitted on the
  windows inside ``[0, train_end)`` (all windows when that holds too few), the score is
  ``-score_samples`` and the flag is scikit-learn's ``predict == -1`` (contamination
  ``"auto"``).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from rnnkit.data.windows import sliding

ROLLING_WINDOW = 50
ROLLING_Z = 3.0
FOREST_WINDOW = 16


def rolling_zscore(x: np.ndarray, window: int = ROLLING_WINDOW, z: float = ROLLING_Z):
    frame = pd.DataFrame(x)
    past = frame.shift(1).rolling(window, min_periods=window)
    m, s = past.mean().to_numpy(), past.std(ddof=0).to_numpy()  # (T, C)
    with np.errstate(divide="ignore", invalid="ignore"):
        dev = np.abs(x - m) / s
    dev = np.where(s > 0, dev, np.where(np.abs(x - m) > 0, np.inf, 0.0))
    dev[np.isnan(m)] = np.nan
    score = np.full(len(x), np.nan)
    ok = ~np.isnan(dev).any(axis=1)
    score[ok] = dev[ok].max(axis=1)
    return score, np.nan_to_num(score, nan=0.0) > z


def isolation_forest(x: np.ndarray, train_end: int, window: int = FOREST_WINDOW, seed: int = 0):
    from sklearn.ensemble import IsolationForest

    T = len(x)
    score, flags = np.full(T, np.nan), np.zeros(T, dtype=bool)
    if T < window:
        return score, flags
    ref = x[: max(train_end, window)]
    mean, std = ref.mean(axis=0), ref.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    w = sliding((x - mean) / std, window)  # (T - window + 1, window, C)
    feats = (w - w.mean(axis=1, keepdims=True)).reshape(len(w), -1)
    n_train = train_end - window + 1
    fit_on = feats[:n_train] if n_train >= 2 * window else feats
    forest = IsolationForest(random_state=seed).fit(fit_on)
    score[window - 1:] = -forest.score_samples(feats)
    flags[window - 1:] = forest.predict(feats) == -1
    return score, flags


def available(names) -> list[str]:
    """The baselines among ``names`` that can run here (the forest needs scikit-learn)."""
    out = []
    for name in names:
        if name == "isolation_forest":
            try:
                import sklearn  # noqa: F401
            except ImportError:
                warnings.warn("the isolation_forest baseline needs scikit-learn "
                              "(pip install scikit-learn); skipped")
                continue
        out.append(name)
    return out


BASELINES = {"rolling_zscore": lambda x, train_end: rolling_zscore(x),
             "isolation_forest": lambda x, train_end: isolation_forest(x, train_end)}
