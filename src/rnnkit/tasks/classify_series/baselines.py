"""Series-classification baselines that handle variable length.

All work on standardised series (the classifier's own channel scaler) and map a list of
``(T_i, C)`` arrays to class codes:

* ``nearest_centroid``: each series resampled to a common length ``R`` (linear
  interpolation over its own time axis, ``R`` = the longest training series) and
  flattened; the class whose mean vector is nearest in Euclidean distance;
* ``1nn_euclidean``: the label of the nearest training series, resampled alike;
* ``1nn_dtw``: the label of the nearest training series under dynamic time warping
  (Sakoe & Chiba 1978) with squared Euclidean step cost over all channels (DTW_D) and no
  window — each series at its own length, no resampling. 1-NN DTW is the classic strong
  baseline of the UCR/UEA archives (Bagnall et al. 2017).

The DTW recursion, for series ``a`` (``T_a`` steps) and ``b`` (``T_b``)::

    D[i, j] = |a_i - b_j|^2 + min(D[i-1, j-1], D[i-1, j], D[i, j-1]),  D[0, 0] = |a_0 - b_0|^2
    dtw(a, b) = D[T_a - 1, T_b - 1]

computed for every test/train pair at once (padding past a series' end never reaches the
cells read back).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

NAMES = ("nearest_centroid", "1nn_euclidean", "1nn_dtw")


def resample(series: Sequence[np.ndarray], length: int) -> np.ndarray:
    """Linear interpolation of each ``(T_i, C)`` series to ``length`` steps: ``(N, length, C)``."""
    out = np.empty((len(series), length, series[0].shape[1]))
    for n, s in enumerate(series):
        pos = np.linspace(0.0, len(s) - 1, length)  # (R,) positions on the series' own axis
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, len(s) - 1)
        w = (pos - lo)[:, None]  # (R, 1)
        out[n] = s[lo] * (1 - w) + s[hi] * w
    return out


def _squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(M, F)``, ``(N, F)`` -> ``(M, N)`` squared Euclidean distances."""
    d = (a ** 2).sum(1)[:, None] + (b ** 2).sum(1)[None, :] - 2 * a @ b.T
    return np.maximum(d, 0.0)


def _padded(series: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    lengths = np.array([len(s) for s in series])
    x = np.zeros((len(series), lengths.max(), series[0].shape[1]))  # (N, L, C)
    for i, s in enumerate(series):
        x[i, : len(s)] = s
    return x, lengths


def dtw_distances(queries: Sequence[np.ndarray], references: Sequence[np.ndarray],
                  max_cells: int = 2_000_000) -> np.ndarray:
    """DTW distance of every query to every reference: ``(len(queries), len(references))``."""
    a, la = _padded(queries)  # (M, La, C)
    b, lb = _padded(references)  # (N, Lb, C)
    chunk = max(1, max_cells // (len(references) * b.shape[1]))
    return np.concatenate([_dtw_block(a[s:s + chunk], la[s:s + chunk], b, lb)
                           for s in range(0, len(a), chunk)])


def _dtw_block(a: np.ndarray, la: np.ndarray, b: np.ndarray, lb: np.ndarray) -> np.ndarray:
    M, N, Lb = len(a), len(b), b.shape[1]
    b_sq = (b ** 2).sum(-1).T  # (Lb, N)
    result = np.empty((M, N))
    prev = None
    for i in range(a.shape[1]):
        a_i = a[:, i]  # (M, C)
        cost = (a_i ** 2).sum(-1)[None, :, None] + b_sq[:, None, :] \
            - 2 * np.einsum("mc,nlc->lmn", a_i, b)  # (Lb, M, N)
        cost = np.maximum(cost, 0.0)
        row = np.empty_like(cost)
        if prev is None:  # first row: only moves along b
            row[0] = cost[0]
            for j in range(1, Lb):
                row[j] = cost[j] + row[j - 1]
        else:
            diag_or_up = np.minimum(prev[:-1], prev[1:])  # (Lb-1, M, N): D[i-1, j-1], D[i-1, j]
            row[0] = cost[0] + prev[0]
            for j in range(1, Lb):
                row[j] = cost[j] + np.minimum(diag_or_up[j - 1], row[j - 1])
        done = np.flatnonzero(la == i + 1)  # queries whose last step is i
        if done.size:
            result[done] = row[lb - 1, done[:, None], np.arange(N)[None, :]]  # (k, N)
        prev = row
    return result


class NearestCentroid:
    def __init__(self, series: Sequence[np.ndarray], codes: np.ndarray, n_classes: int) -> None:
        self.length = max(len(s) for s in series)
        flat = resample(series, self.length).reshape(len(series), -1)  # (N, R*C)
        present = [k for k in range(n_classes) if (codes == k).any()]
        self.classes = np.array(present)
        self.centroids = np.stack([flat[codes == k].mean(0) for k in present])  # (K, R*C)

    def predict(self, series: Sequence[np.ndarray]) -> np.ndarray:
        flat = resample(series, self.length).reshape(len(series), -1)
        return self.classes[_squared_distances(flat, self.centroids).argmin(1)]


class NearestNeighbour:
    def __init__(self, series: Sequence[np.ndarray], codes: np.ndarray, metric: str) -> None:
        self.series, self.codes, self.metric = list(series), np.asarray(codes), metric
        self.length = max(len(s) for s in series)
        if metric == "euclidean":
            self.flat = resample(series, self.length).reshape(len(series), -1)  # (N, R*C)

    def predict(self, series: Sequence[np.ndarray]) -> np.ndarray:
        if self.metric == "euclidean":
            flat = resample(series, self.length).reshape(len(series), -1)
            d = _squared_distances(flat, self.flat)
        else:
            d = dtw_distances(series, self.series)
        return self.codes[d.argmin(1)]


def fit_baseline(name: str, series: Sequence[np.ndarray], codes: np.ndarray, n_classes: int):
    """A fitted baseline ``name`` (see :data:`NAMES`) with ``.predict(series) -> codes``."""
    if name == "nearest_centroid":
        return NearestCentroid(series, codes, n_classes)
    return NearestNeighbour(series, codes, "dtw" if name == "1nn_dtw" else "euclidean")
