"""The estimator core every task stands on: settings with declared checks and one training
block (:mod:`~rnnkit.tasks.core.settings`), the estimator base with scikit-learn's contract
and the model-file template (:mod:`~rnnkit.tasks.core.estimator`), and one report shape
(:mod:`~rnnkit.tasks.core.report`)."""

from rnnkit.tasks.core.checks import Check, Choice, Flag, Int, Real, Rule, is_number, setting
from rnnkit.tasks.core.estimator import BundleParts, Estimator
from rnnkit.tasks.core.report import Report
from rnnkit.tasks.core.settings import Settings, TrainSettings, declared_check

__all__ = ["BundleParts", "Check", "Choice", "Estimator", "Flag", "Int", "Real", "Report", "Rule",
           "Settings", "TrainSettings", "declared_check", "is_number", "setting"]
