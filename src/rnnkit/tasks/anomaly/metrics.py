"""Detection metrics on binary per-point labels ``y`` and flags ``ŷ`` (both ``(T,)``).

Point-wise: ``precision = TP / (TP + FP)``, ``recall = TP / (TP + FN)``,
``F1 = 2 P R / (P + R)`` over points (0 when undefined, as scikit-learn's
``zero_division=0``).

Point-adjusted F1 (Xu et al., WWW 2018): a labelled anomaly is a maximal run of
``y = 1``; if any point in it is flagged, every point of it counts as flagged; then F1
as above. It rewards finding an anomaly at all, not covering every point of it.

NAB score (Lavin & Ahmad 2015; the Numenta Anomaly Benchmark's ``sweeper.py``), standard
profile ``A_TP = 1``, ``A_FP = -0.11``, ``A_FN = -1``:

* windows: with ``n`` labelled anomalies in ``T`` points, ``w = ⌊0.1 T / n⌋``; the
  anomaly ``[a, b]`` gets the window ``[a - ⌊w/2⌋, b + ⌊w/2⌋]`` clipped to the data, and
  overlapping windows are merged;
* the scaled sigmoid ``σ(y) = 2 / (1 + e^{5y}) - 1`` (``σ(y) = -1`` for ``y ≥ 3``);
* a flag at ``i`` in window ``[L, R]`` (width ``W = R - L + 1``) has relative position
  ``y = -(R - i + 1) / W`` ∈ [-1, 0) and is worth ``A_TP σ(y) / σ(-1)``; a window is worth
  the best of its flags (its earliest), or ``A_FN`` when it has none;
* a flag outside every window, after a window ending at ``R`` of width ``W``, has
  ``y = (i - R) / (W - 1)`` and is worth ``|A_FP| σ(y)`` (from ``≈ 0`` right after the
  window to ``A_FP`` far from it; ``A_FP`` when no window came before);
* raw score ``S = Σ_windows + Σ_false positives``; the null detector (no flags) scores
  ``S_null = n_w A_FN`` and the perfect one (a flag at each window's start)
  ``S_perfect = n_w A_TP``, with ``n_w`` merged windows; the reported score is

      NAB = 100 (S - S_null) / (S_perfect - S_null)

  so 0 is the null detector and 100 the perfect one (it can go below 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rnnkit.tasks.anomaly.runs import runs

STANDARD_PROFILE = {"A_TP": 1.0, "A_FP": -0.11, "A_FN": -1.0}


def _binary(values, name: str) -> np.ndarray:
    return np.asarray(values).astype(bool).ravel()


def _prf(tp: int, n_flagged: int, n_true: int) -> dict[str, float]:
    precision = tp / n_flagged if n_flagged else 0.0
    recall = tp / n_true if n_true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {"precision": precision, "recall": recall, "F1": f1}


def point_scores(labels, flags) -> dict[str, float]:
    """Point-wise precision, recall and F1."""
    y, p = _binary(labels, "labels"), _binary(flags, "flags")
    return _prf(int((y & p).sum()), int(p.sum()), int(y.sum()))


def point_adjust(labels, flags) -> np.ndarray:
    """Flags with every labelled run that holds a flag filled in (Xu et al. 2018)."""
    y, p = _binary(labels, "labels"), _binary(flags, "flags").copy()
    for a, b in runs(y):
        if p[a:b + 1].any():
            p[a:b + 1] = True
    return p


def point_adjusted_f1(labels, flags) -> float:
    return point_scores(labels, point_adjust(labels, flags))["F1"]


def scaled_sigmoid(y: float) -> float:
    """NAB's ``σ(y) = 2 / (1 + e^{5y}) - 1``, and ``-1`` for ``y ≥ 3``."""
    return -1.0 if y >= 3.0 else 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def nab_windows(labels, window_fraction: float = 0.1) -> np.ndarray:
    """``(K, 2)`` inclusive ``[L, R]`` NAB windows around the labelled runs, merged."""
    y = _binary(labels, "labels")
    anomalies = runs(y)
    if len(anomalies) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    half = int(window_fraction * len(y) / len(anomalies)) // 2
    merged: list[list[int]] = []
    for a, b in anomalies:
        lo, hi = max(a - half, 0), min(b + half, len(y) - 1)
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([int(lo), int(hi)])
    return np.array(merged, dtype=np.int64)


@dataclass(frozen=True)
class NabResult:
    score: float  # normalized: 0 null detector, 100 perfect
    raw: float
    null: float
    perfect: float
    windows: int
    detected: int  # windows with a flag
    false_positives: int  # flags outside every window


def nab_score(labels, flags, *, profile: dict = STANDARD_PROFILE,
              window_fraction: float = 0.1) -> NabResult:
    """The NAB score of ``flags`` against ``labels`` (see the module docstring)."""
    y, p = _binary(labels, "labels"), _binary(flags, "flags")
    windows = nab_windows(y, window_fraction)
    a_tp, a_fp, a_fn = profile["A_TP"], profile["A_FP"], profile["A_FN"]
    n_w = len(windows)
    best = np.full(n_w, a_fn)
    fp_total, n_fp, max_tp = 0.0, 0, scaled_sigmoid(-1.0)
    for i in np.flatnonzero(p):
        k = int(np.searchsorted(windows[:, 1], i)) if n_w else 0  # first window ending at/after i
        if k < n_w and windows[k, 0] <= i:
            lo, hi = windows[k]
            y_pos = -(hi - i + 1) / (hi - lo + 1)
            best[k] = max(best[k], a_tp * scaled_sigmoid(y_pos) / max_tp)
            continue
        n_fp += 1
        if k == 0:
            y_pos = 3.0  # no window before this flag
        else:
            lo, hi = windows[k - 1]
            y_pos = (i - hi) / max(hi - lo, 1)
        fp_total += abs(a_fp) * scaled_sigmoid(y_pos)
    raw = float(best.sum() + fp_total)
    null, perfect = n_w * a_fn, n_w * a_tp
    score = 100.0 * (raw - null) / (perfect - null) if n_w else float("nan")
    return NabResult(score, raw, null, perfect, n_w, int((best != a_fn).sum()), n_fp)


def detection_scores(labels, flags) -> dict[str, float]:
    """The row of an evaluation table: precision, recall, F1, PA_F1 and NAB."""
    row = point_scores(labels, flags)
    row["PA_F1"] = point_adjusted_f1(labels, flags)
    row["NAB"] = nab_score(labels, flags).score
    return row
