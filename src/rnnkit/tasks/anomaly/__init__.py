"""Anomaly detection (task ``anomaly``): ``AnomalyDetector`` with dynamic thresholds,
streaming, metrics (F1, point-adjusted F1, NAB) and baselines."""

from rnnkit.tasks.anomaly import datasets  # noqa: F401  (registers the "yahoo" data set)
from rnnkit.tasks.anomaly.estimator import AnomalyDetector
from rnnkit.tasks.anomaly.ranges import Detection
from rnnkit.tasks.anomaly.scoring import StepResult

__all__ = ["AnomalyDetector", "Detection", "StepResult"]
