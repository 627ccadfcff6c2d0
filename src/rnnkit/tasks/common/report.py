"""What the classifiers' ``evaluate`` returns: the core :class:`~rnnkit.tasks.core.Report`
plus a confusion table and the predicted labels of every model.

>>> report = clf.evaluate(X_test, y_test)
>>> report.table                     # accuracy, macro_f1 per model (rnnkit first)
>>> report.confusion["rnnkit"]       # true x predicted counts (per-label counts if multi-label)
>>> report.predictions["1nn_dtw"]    # the labels that model predicted, (N,)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Hashable, Sequence

import numpy as np
import pandas as pd

from rnnkit.tasks.common import metrics as M
from rnnkit.tasks.core import Report

COLUMNS = ("accuracy", "macro_f1")


@dataclass(repr=False)  # keep Report's table-first repr
class ClassificationReport(Report):
    """``table``: one row per model (rnnkit first), columns ``accuracy`` and ``macro_f1``.
    ``confusion``: per model, true x predicted counts. ``predictions``: per model, the
    predicted labels ``(N,)``."""

    confusion: dict[str, pd.DataFrame] = field(default_factory=dict)
    predictions: dict[str, np.ndarray] = field(default_factory=dict)

    @classmethod
    def empty(cls) -> "ClassificationReport":
        """A report with no model yet; :meth:`add` fills it one model at a time."""
        return cls(pd.DataFrame(columns=list(COLUMNS), dtype=float))

    def fields_note(self) -> str:
        return ".confusion and .predictions per model"

    def add(self, name: str, scores: Sequence[float], confusion: pd.DataFrame,
            predictions: np.ndarray) -> None:
        """Record model ``name``: its ``(accuracy, macro_f1)``, confusion table and labels."""
        self.table.loc[name] = list(scores)
        self.table.index.name = "model"
        self.confusion[name] = confusion
        self.predictions[name] = predictions

    def add_single_label(self, name: str, truth: Sequence[Hashable], predicted: np.ndarray,
                         labels: Sequence[Hashable]) -> None:
        """Score single-label ``predicted`` ``(N,)`` against ``truth`` over the classes ``labels``."""
        listed = predicted.tolist()
        self.add(name, [M.accuracy(truth, listed), M.macro_f1(truth, listed, labels)],
                 M.confusion_frame(truth, listed, labels), predicted)
