"""Class labels the classifiers share: checking them, encoding them to codes, storing them
in a model file, and the validation split that keeps each class's share.

Labels are any hashable values (``"great"``, ``3``, ``("a", 1)``); the classes of a fitted
model are an array ``classes_`` ``(K,)`` and a label's code is its index there.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Hashable

import numpy as np

from rnnkit.errors import BundleError, DataError, problem

JSON_LABEL_TYPES = (str, int, float, bool)  # labels a model file (JSON) can hold


def as_labels(y, n: int, where: str) -> list[Hashable]:
    """``y`` -> a list of ``n`` hashable labels (numpy scalars become Python values)."""
    if isinstance(y, (str, bytes)) or not hasattr(y, "__len__"):
        raise DataError(problem(f"{where}: y", expected=f"{n} labels (a list, array or Series)",
                                got=type(y).__name__))
    values = list(y.tolist() if hasattr(y, "tolist") and not isinstance(y, list) else y)
    if len(values) != n:
        raise DataError(problem(f"{where}: y", expected=f"one label per sequence ({n})",
                                got=f"{len(values)} labels"))
    for i, v in enumerate(values):
        v = v.item() if isinstance(v, np.generic) else v
        if v is None or isinstance(v, float) and math.isnan(v):
            raise DataError(problem(f"{where}: y[{i}]", expected="a label", got=repr(v),
                                    fix="drop the sequences without a label"))
        if not isinstance(v, Hashable):
            raise DataError(problem(f"{where}: y[{i}]", expected="a hashable label (str, int, ...)",
                                    got=type(v).__name__))
        values[i] = v
    return values


def encode_labels(labels: list[Hashable], where: str) -> tuple[np.ndarray, np.ndarray]:
    """Labels -> ``(classes (K,), codes (N,) int64)``; classes sorted when they sort, else in
    order of first appearance. Fewer than two classes is an error."""
    unique = list(dict.fromkeys(labels))
    try:
        unique = sorted(unique)
    except TypeError:
        pass
    if len(unique) < 2:
        raise DataError(problem(f"{where}: y", expected="at least 2 classes",
                                got=f"1 class ({unique[0]!r}) in all {len(labels)} labels",
                                fix="a classifier needs examples of two or more classes"))
    index = {label: k for k, label in enumerate(unique)}
    return class_array(unique), np.array([index[v] for v in labels], dtype=np.int64)


def class_array(classes: list) -> np.ndarray:
    """Classes as a 1-D array: its natural dtype, or dtype object for mixed or tuple labels."""
    arr = np.asarray(classes) if all(type(c) is type(classes[0]) for c in classes) else None
    if arr is None or arr.ndim != 1:
        arr = np.empty(len(classes), dtype=object)
        arr[:] = classes
    return arr


def storable_classes(classes: np.ndarray, who: str) -> list:
    """``classes`` as a JSON list for a model file; a label that JSON cannot hold (a tuple,
    a date) is a :class:`~rnnkit.errors.BundleError` that says to map the labels first."""
    values = classes.tolist()
    for c in values:
        if not isinstance(c, JSON_LABEL_TYPES):
            raise BundleError(problem(f"{who}.save: class label", expected="str, int, float or "
                                      "bool labels to store in a model file",
                                      got=f"{type(c).__name__} {c!r}",
                                      fix="map the labels to strings before fit"))
    return values


def check_known_labels(truth: list, classes: np.ndarray, where: str) -> None:
    """Labels to score against a model's ``classes``: when none of them is a class (labels of
    another data set, or numbers read back from a CSV after fitting on strings) the scores
    would be 0 without meaning, a :class:`DataError`; when some are not, a ``UserWarning``
    (those rows count as errors). Both name the labels and the classes."""
    known = set(classes.tolist())
    unseen = [v for v in dict.fromkeys(truth) if v not in known]
    if not unseen:
        return
    shown = f"{classes.tolist()[:10]}" + (f" (and {len(classes) - 10} more)" if len(classes) > 10 else "")
    if len(unseen) == len(set(truth)):
        raise DataError(problem(f"{where}: labels", expected=f"some of the model's classes {shown}",
                                got=f"{unseen[:10]}, none of them a class",
                                fix="check the label column; numbers read from a CSV where the model "
                                    "learned strings need converting, e.g. y.astype(str)"))
    n = sum(v not in known for v in truth)
    warnings.warn(f"{where}: {n} of {len(truth)} labels are none of the model's classes: "
                  f"{unseen[:10]} (classes {shown}); those rows count as errors", UserWarning,
                  stacklevel=3)


def like_classes(labels: list, classes: np.ndarray) -> list:
    """``labels`` read from a table, in the type of the model's ``classes``: integer labels
    (``1``, ``2.0``) become strings (``"1"``, ``"2"``) when the classes are strings, as a CSV
    gives back numbers for labels such as ``"1"``; anything else is returned as it is."""
    if not all(isinstance(c, str) for c in classes.tolist()):
        return labels

    def text(v):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
            return v
        return str(int(v)) if float(v).is_integer() else str(v)

    return [text(v) for v in labels]


def stratified_split(codes: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(train, validation)`` indices: ``round(n_k * fraction)`` of each class ``k`` held out,
    always leaving at least one example of the class for training."""
    rng = np.random.default_rng(seed)
    train, val = [], []
    for k in np.unique(codes):
        members = rng.permutation(np.flatnonzero(codes == k))
        n_val = min(int(np.floor(len(members) * fraction + 0.5)), len(members) - 1)
        val.append(members[:n_val])
        train.append(members[n_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))
