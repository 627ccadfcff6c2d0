"""Class weights for the loss: ``class_weight`` = None, ``"balanced"`` or ``{label: weight}``.

Single-label, ``K`` classes with ``n_k`` of ``N`` texts each: ``"balanced"`` gives
``w_k = N / (K n_k)`` (scikit-learn's rule), a dict gives its weight to the classes it
names and 1 to the rest. Multi-label, ``n_k`` texts carry label ``k``: the weights are the
``pos_weight`` of each label's positives, ``"balanced"`` ``p_k = (N - n_k) / n_k`` (at least
``1 / n_k``), a dict its weight (1 for the rest).
"""

from __future__ import annotations

import numpy as np
import torch

from rnnkit.errors import ConfigError, problem


def loss_weights(class_weight, classes: np.ndarray, targets: np.ndarray) -> torch.Tensor | None:
    """``(K,)`` weights for :func:`~rnnkit.tasks.classify_text.training.make_loss`, or None."""
    if class_weight is None:
        return None
    K = len(classes)
    if targets.ndim == 1:
        counts = np.bincount(targets, minlength=K).astype(np.float64)  # (K,)
        balanced = len(targets) / (K * np.maximum(counts, 1))
    else:
        counts = targets.sum(0).astype(np.float64)  # (K,) positives per label
        balanced = np.maximum(len(targets) - counts, 1) / np.maximum(counts, 1)
    if class_weight == "balanced":
        return torch.as_tensor(balanced, dtype=torch.float32)
    w = np.ones(K)
    index = {str(c): k for k, c in enumerate(classes.tolist())}
    for label, value in class_weight.items():
        if str(label) not in index:
            raise ConfigError(problem(f"TextClassifier: class_weight key {label!r}",
                                      expected=f"one of the classes {list(index)[:8]}",
                                      got="a label not in the training labels",
                                      fix="check the spelling of the labels"))
        w[index[str(label)]] = float(value)
    return torch.as_tensor(w, dtype=torch.float32)


def baseline_weights(class_weight, classes: np.ndarray):
    """The same weights for scikit-learn: ``"balanced"``, ``{code: weight}`` or None."""
    if class_weight is None or class_weight == "balanced":
        return class_weight
    index = {str(c): k for k, c in enumerate(classes.tolist())}
    return {index[str(label)]: float(v) for label, v in class_weight.items()}
