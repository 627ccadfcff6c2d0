"""Batch residuals: the whole series through the scoring network at once.

Each function takes the scaled series ``x`` ``(T, C)`` (float64) and returns raw residuals
``(T, K, C)``, NaN where a point is not scored; :func:`normalize` divides them by the
per-channel training error scale ``σ`` ``(K, C)`` and keeps, per channel, the smallest.
:mod:`rnnkit.tasks.anomaly.stream` computes the same rows one step at a time.

* predict (``K = horizons``): ``x_t - x̂_t^(k)`` with ``x̂_t^(k)`` predicted ``k`` steps
  before ``t`` from the state after ``x_1..x_{t-k}`` (zero initial state, as a fresh
  stream); rows ``t < max(burn_in, K)`` are unscored. Taking the smallest normalized
  residual over ``k`` keeps an anomalous input from also making the steps after it look
  anomalous: their prediction from before it is still clean.
* autoencoder (``K = 1``): tumbling windows ``[jW, (j+1)W)`` from the first row, anchored
  at ``x_{jW-1}`` (``x_0`` for the first); ``x_t - x̂_t`` with ``x̂`` the reconstruction of
  ``t``'s window; the rows of an unfinished last window are unscored.
"""

from __future__ import annotations

import numpy as np
import torch


def unscored_prefix(burn_in: int, horizons: int) -> int:
    """Rows at the start of a predictor stream that get no score."""
    return max(burn_in, horizons)


def normalize(raw: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``(..., K, C)`` raw residuals -> ``(..., C)``: per channel the ``raw / σ`` of the
    smallest magnitude over ``K``. A row is all finite or all NaN (unscored), and an
    unscored row stays NaN."""
    z = raw / scale  # (..., K, C)
    pick = np.abs(z).argmin(axis=-2)  # (..., C); the first NaN when the row is unscored
    return np.take_along_axis(z, pick[..., None, :], axis=-2)[..., 0, :]


@torch.inference_mode()
def prediction_residuals(net, x: np.ndarray, burn_in: int) -> np.ndarray:
    T, C = x.shape
    K = net.horizons
    xs = torch.from_numpy(x)[None]  # (1, T, C)
    pred, _ = net(xs, xs[:, 0])  # (1, T, K, C): pred[:, t, k] predicts x[t + k + 1]
    pred = pred[0].numpy()
    raw = np.full((T, K, C), np.nan)
    for k in range(K):
        raw[k + 1:, k] = x[k + 1:] - pred[: T - k - 1, k]  # (T - k - 1, C)
    raw[: min(unscored_prefix(burn_in, K), T)] = np.nan
    return raw


@torch.inference_mode()
def reconstruction_residuals(net, x: np.ndarray, window: int, chunk: int = 4096) -> np.ndarray:
    T, C = x.shape
    n = T // window
    raw = np.full((T, 1, C), np.nan)
    windows = torch.from_numpy(x[: n * window]).reshape(n, window, C)  # (n, W, C)
    anchors = torch.from_numpy(x[np.maximum(np.arange(n) * window - 1, 0)])  # (n, C)
    for i in range(0, n, chunk):  # bounded memory for long series
        part = windows[i:i + chunk]
        recon = net(part, anchors[i:i + chunk]).numpy()  # (n_i, W, C)
        raw[i * window:(i + len(part)) * window, 0] = (part.numpy() - recon).reshape(-1, C)
    return raw
