"""Text-classification metrics: single-label ones come from
:mod:`rnnkit.tasks.common.metrics` (accuracy, macro-F1, confusion matrix);
multi-label ones are defined here over 0/1 matrices ``Y`` (truth) and ``P`` (predicted),
``(N, K)``:

* subset accuracy ``mean_n [Y_n = P_n]`` (every label of a text right);
* macro-F1 ``(1/K) sum_k 2 TP_k / (2 TP_k + FP_k + FN_k)`` (0 for a label neither true nor
  predicted), as ``sklearn.metrics.f1_score(average="macro")``;
* per-label counts TP, FP, FN, TN as a table (the multi-label "confusion").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from rnnkit.tasks.common.metrics import accuracy, confusion_frame, label_set, macro_f1

__all__ = ["accuracy", "macro_f1", "confusion_frame", "label_set", "subset_accuracy",
           "multilabel_macro_f1", "label_counts"]


def subset_accuracy(Y: np.ndarray, P: np.ndarray) -> float:
    """Share of texts whose whole label set is right."""
    return float(np.mean((Y.astype(bool) == P.astype(bool)).all(1)))


def _counts(Y: np.ndarray, P: np.ndarray) -> tuple[np.ndarray, ...]:
    Y, P = Y.astype(bool), P.astype(bool)
    return ((Y & P).sum(0), (~Y & P).sum(0), (Y & ~P).sum(0), (~Y & ~P).sum(0))  # each (K,)


def multilabel_macro_f1(Y: np.ndarray, P: np.ndarray) -> float:
    """Mean F1 over the labels (module doc)."""
    tp, fp, fn, _ = (c.astype(np.float64) for c in _counts(Y, P))
    denom = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    return float(f1.mean())


def label_counts(Y: np.ndarray, P: np.ndarray, classes) -> pd.DataFrame:
    """One row per label: ``tp, fp, fn, tn``."""
    tp, fp, fn, tn = _counts(Y, P)
    return pd.DataFrame({"tp": tp, "fp": fp, "fn": fn, "tn": tn},
                        index=pd.Index(list(classes), name="label"))
