"""Hyperparameter search with Optuna (``rnnkit tune``): a declared space, pruning, a
resumable SQLite study, and the best config and model written out."""

from rnnkit.tuning.space import parse_space
from rnnkit.tuning.study import TuneResult, tune
from rnnkit.tuning.toml_io import read_tune_config

__all__ = ["TuneResult", "parse_space", "read_tune_config", "tune"]
