"""Forecasting (task ``forecast``): ``Forecaster`` with intervals and backtests."""

from rnnkit.tasks.forecast.estimator import Forecaster

__all__ = ["Forecaster"]
