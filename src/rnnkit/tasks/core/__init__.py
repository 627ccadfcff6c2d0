"""The estimator core every task stands on: settings with declared checks and one training
block (:mod:`~rnnkit.tasks.core.settings`) and upper bounds (:mod:`~rnnkit.tasks.core.limits`),
the estimator base with scikit-learn's contract and the model-file template
(:mod:`~rnnkit.tasks.core.estimator`), the check of a model file against its task before
its weights are read (:mod:`~rnnkit.tasks.core.file_check`), and one report shape
(:mod:`~rnnkit.tasks.core.report`)."""

from rnnkit.tasks.core.checks import Check, Choice, Flag, Int, Real, Rule, is_number, setting
from rnnkit.tasks.core.estimator import BundleParts, Estimator
from rnnkit.tasks.core.file_check import Extra, file_errors, finite_numbers, require, unique_names
from rnnkit.tasks.core.report import Report
from rnnkit.tasks.core.settings import Settings, TrainSettings, declared_check

__all__ = ["BundleParts", "Check", "Choice", "Estimator", "Extra", "Flag", "Int", "Real", "Report",
           "Rule", "Settings", "TrainSettings", "declared_check", "file_errors", "finite_numbers",
           "is_number", "require", "setting", "unique_names"]
