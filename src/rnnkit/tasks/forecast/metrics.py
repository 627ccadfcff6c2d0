"""Forecast accuracy and interval metrics over many windows.

All take arrays of the same shape ``(W, H)`` (windows × steps ahead) and pool every value:

* MAE ``mean|y - ŷ|``, RMSE ``sqrt(mean (y - ŷ)^2)``;
* MAPE ``100 · mean |y - ŷ| / |y|`` over ``y ≠ 0``;
* sMAPE ``100 · mean 2|y - ŷ| / (|y| + |ŷ|)``;
* MASE ``mean_w MAE_w / scale_w`` with ``scale_w`` the in-sample mean absolute seasonal
  difference of the window's history (Hyndman & Koehler 2006);
* coverage: the share of ``y`` inside ``[lower, upper]``; width: mean ``upper - lower``.
"""

from __future__ import annotations

import numpy as np


def point_metrics(y: np.ndarray, yhat: np.ndarray, scale: np.ndarray) -> dict[str, float]:
    err = np.abs(y - yhat)
    nonzero = np.abs(y) > 1e-12
    denom = np.abs(y) + np.abs(yhat)
    per_window = err.mean(axis=1) / scale
    return {
        "MAE": float(err.mean()),
        "RMSE": float(np.sqrt(((y - yhat) ** 2).mean())),
        "MAPE": float(100 * (err[nonzero] / np.abs(y[nonzero])).mean()) if nonzero.any() else float("nan"),
        "sMAPE": float(100 * np.where(denom > 0, 2 * err / np.where(denom > 0, denom, 1), 0).mean()),
        "MASE": float(np.nanmean(per_window)) if np.isfinite(per_window).any() else float("nan"),
    }


def interval_metrics(y: np.ndarray, lower: np.ndarray | None, upper: np.ndarray | None) -> dict[str, float]:
    if lower is None or upper is None:
        return {"coverage": float("nan"), "width": float("nan")}
    inside = (y >= lower) & (y <= upper)
    return {"coverage": float(inside.mean()), "width": float((upper - lower).mean())}
