"""Batch residuals: the whole series through the scoring network at once.

Both functions take the scaled series ``x`` ``(T, C)`` (float64) and the per-channel error
scale ``σ`` ``(C,)`` and return normalized residuals ``r`` ``(T, C)`` with NaN rows where a
point is not scored. :mod:`rnnkit.tasks.anomaly.stream` computes the same rows one step
at a time.

* predict: ``r_t = (x_t - x̂_t) / σ`` with ``x̂_t`` predicted from the state after
  ``x_1..x_{t-1}`` (zero initial state, as a fresh stream); rows ``t < max(burn_in, 1)``
  are unscored.
* autoencoder: tumbling windows ``[kW, (k+1)W)`` from the first row; ``r_t = (x_t -
  x̂_t) / σ`` with ``x̂`` the reconstruction of ``t``'s window; the rows of an unfinished
  last window are unscored.
"""

from __future__ import annotations

import numpy as np
import torch


def unscored_prefix(burn_in: int) -> int:
    """Rows at the start of a predictor stream that get no score."""
    return max(burn_in, 1)


@torch.inference_mode()
def prediction_residuals(net, x: np.ndarray, scale: np.ndarray, burn_in: int) -> np.ndarray:
    T = len(x)
    pred, _ = net(torch.from_numpy(x)[None])  # (1, T, C): pred[:, t] predicts x[t + 1]
    pred = pred[0].numpy()
    r = np.full_like(x, np.nan)
    r[1:] = (x[1:] - pred[:-1]) / scale  # (T - 1, C)
    r[: min(unscored_prefix(burn_in), T)] = np.nan
    return r


@torch.inference_mode()
def reconstruction_residuals(net, x: np.ndarray, scale: np.ndarray, window: int,
                             chunk: int = 4096) -> np.ndarray:
    T, C = x.shape
    n = T // window
    r = np.full_like(x, np.nan)
    windows = torch.from_numpy(x[: n * window]).reshape(n, window, C)  # (n, W, C)
    for i in range(0, n, chunk):  # bounded memory for long series
        part = windows[i:i + chunk]
        recon = net(part).numpy()  # (n_i, W, C)
        r[i * window:(i + len(part)) * window] = ((part.numpy() - recon) / scale).reshape(-1, C)
    return r
