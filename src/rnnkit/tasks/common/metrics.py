"""Single-label classification metrics over labels of any hashable type (the series and
text classifiers share them).

For true labels ``y`` and predictions ``ŷ`` over the classes ``k = 1..K`` (the labels the
caller lists, by default every label in ``y`` or ``ŷ``):

* accuracy ``mean(y = ŷ)``;
* confusion matrix ``M[i, j] = #{y = k_i and ŷ = k_j}`` (rows true, columns predicted);
* macro-F1 ``(1/K) Σ_k F1_k`` with ``F1_k = 2 TP_k / (2 TP_k + FP_k + FN_k)`` (0 when the
  class is neither true nor predicted anywhere), as ``sklearn.metrics.f1_score(average="macro")``.
"""

from __future__ import annotations

from typing import Hashable, Sequence

import numpy as np
import pandas as pd


def label_set(*label_lists: Sequence[Hashable]) -> list:
    """Every label that occurs, sorted when the labels sort, else in order of appearance."""
    seen = list(dict.fromkeys(v for labels in label_lists for v in labels))
    try:
        return sorted(seen)
    except TypeError:
        return seen


def accuracy(y_true: Sequence[Hashable], y_pred: Sequence[Hashable]) -> float:
    """Share of predictions equal to the true label."""
    return float(np.mean([t == p for t, p in zip(y_true, y_pred)]))


def confusion_matrix(y_true: Sequence[Hashable], y_pred: Sequence[Hashable],
                     labels: Sequence[Hashable] | None = None) -> np.ndarray:
    """``(K, K)`` counts, rows true label, columns predicted label, in the order of ``labels``."""
    labels = label_set(y_true, y_pred) if labels is None else list(labels)
    index = {label: k for k, label in enumerate(labels)}
    counts = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, p in zip(y_true, y_pred):
        counts[index[t], index[p]] += 1
    return counts


def macro_f1(y_true: Sequence[Hashable], y_pred: Sequence[Hashable],
             labels: Sequence[Hashable] | None = None) -> float:
    """Mean F1 over the classes ``labels`` (module doc)."""
    m = confusion_matrix(y_true, y_pred, labels)
    tp = np.diag(m).astype(np.float64)
    denom = m.sum(0) + m.sum(1)  # 2TP + FP + FN
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    return float(f1.mean())


def confusion_frame(y_true, y_pred, labels=None) -> pd.DataFrame:
    """The confusion matrix as a DataFrame: index ``true``, columns ``predicted``."""
    labels = label_set(y_true, y_pred) if labels is None else list(labels)
    return pd.DataFrame(confusion_matrix(y_true, y_pred, labels),
                        index=pd.Index(labels, name="true"), columns=pd.Index(labels, name="predicted"))
