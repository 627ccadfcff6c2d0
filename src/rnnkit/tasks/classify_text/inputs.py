"""Checking the labels users pass to the text classifier (texts:
:func:`rnnkit.tasks.common.texts.as_texts`).

Single-label data has one label per text (``"great"``, ``3``); multi-label data has a list
(or tuple / set) of labels per text (``["sports", "politics"]``, ``[]`` for none).
Messages say what is wrong, expected, got and the fix, and name the index of a bad item.
"""

from __future__ import annotations

import math
from collections.abc import Hashable

import numpy as np

from rnnkit.errors import DataError, problem
from rnnkit.tasks.common.labels import as_labels, class_array, encode_labels

MULTI = (list, tuple, set, frozenset)


def is_multilabel(labels) -> bool:
    """True when every label is a list/tuple/set of labels; mixed forms are an error."""
    values = list(labels.tolist() if hasattr(labels, "tolist") and not isinstance(labels, list) else labels)
    multi = [isinstance(v, MULTI) for v in values]
    if any(multi) and not all(multi):
        i = multi.index(not multi[0])
        raise DataError(problem(f"labels[{i}]", expected="one form for every text: a label each "
                                "(single-label) or a list of labels each (multi-label)",
                                got=f"{values[i]!r} after {values[0]!r}",
                                fix="write a single label as [label] for multi-label data"))
    return bool(multi) and all(multi)


def single_labels(y, n: int, where: str) -> tuple[np.ndarray, np.ndarray]:
    """``(classes (K,), codes (N,))``; NaN/None labels and a single class are errors."""
    return encode_labels(as_labels(y, n, where), where)


def multi_labels(y, n: int, where: str, classes: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """``(classes (K,), targets (N, K) float32 0/1)`` from lists of labels; with ``classes``
    given, labels outside them are an error."""
    values = list(y)
    if len(values) != n:
        raise DataError(problem(f"{where}: labels", expected=f"one list of labels per text ({n})",
                                got=f"{len(values)}"))
    for i, labels in enumerate(values):
        for v in labels:
            if v is None or isinstance(v, float) and math.isnan(v) or not isinstance(v, Hashable):
                raise DataError(problem(f"{where}: labels[{i}]", expected="hashable labels (str)",
                                        got=repr(v), fix="drop missing labels from the lists"))
    if classes is None:
        seen = sorted({v for labels in values for v in labels}, key=str)
        if len(seen) < 2:
            raise DataError(problem(f"{where}: labels", expected="at least 2 distinct labels over "
                                    "all texts", got=f"{len(seen)} ({seen})",
                                    fix="a multi-label classifier needs two or more labels"))
        classes = class_array(seen)
    index = {c: k for k, c in enumerate(classes.tolist())}
    targets = np.zeros((n, len(index)), dtype=np.float32)  # (N, K)
    for i, labels in enumerate(values):
        for v in labels:
            if v not in index:
                raise DataError(problem(f"{where}: labels[{i}]", expected=f"labels among the "
                                        f"model's classes {list(index)[:8]}", got=repr(v)))
            targets[i, index[v]] = 1.0
    return classes, targets
