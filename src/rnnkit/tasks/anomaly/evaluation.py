"""``AnomalyDetector.evaluate``: the detector and the baselines scored side by side.

Every detector is scored on the same points ``[start, T)`` with
:func:`~rnnkit.tasks.anomaly.metrics.detection_scores` (point precision, recall and F1,
point-adjusted F1 and the normalized NAB score); the points before ``start`` only warm
the detectors up (and may be the training data).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from rnnkit.errors import ConfigError, unknown_name
from rnnkit.tasks.anomaly.baselines import BASELINES, available
from rnnkit.tasks.anomaly.metrics import detection_scores
from rnnkit.tasks.anomaly.ranges import Detection
from rnnkit.tasks.core import Report

DEFAULT_BASELINES = ("rolling_zscore", "isolation_forest")
COLUMNS = ["precision", "recall", "F1", "PA_F1", "NAB"]


@dataclass(repr=False)  # Report's repr: the table, not every array
class AnomalyEvaluation(Report):
    """A :class:`~rnnkit.tasks.core.Report` whose ``table`` has one row per detector
    (``rnnkit`` first) and columns precision, recall, F1, PA_F1, NAB; ``detection``: the
    detector's own output; ``labels`` ``(T,)`` and ``start`` as scored; ``flags``: each
    detector's flags ``(T,)`` over the whole series."""

    detection: Detection
    labels: np.ndarray
    start: int
    flags: dict = field(default_factory=dict)

    def fields_note(self) -> str:
        return f".detection, .labels, .flags; scored from row {self.start}"


def score_table(values: np.ndarray, labels: np.ndarray, flags: np.ndarray, start: int,
                baselines) -> tuple[pd.DataFrame, dict]:
    """Rows ``rnnkit`` and each baseline; the baselines see ``values`` ``(T, C)`` and fit on
    ``[0, start)`` where they fit at all."""
    for name in baselines:
        if name not in BASELINES:
            raise ConfigError(unknown_name("baseline", name, BASELINES))
    all_flags = {"rnnkit": np.asarray(flags, dtype=bool)}
    for name in available(baselines):
        all_flags[name] = BASELINES[name](values, start)[1]
    rows = {name: detection_scores(labels[start:], f[start:]) for name, f in all_flags.items()}
    table = pd.DataFrame.from_dict(rows, orient="index")[COLUMNS]
    table.index.name = "detector"
    return table, all_flags
