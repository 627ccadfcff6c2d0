"""Task adapters: how each task's estimator is served (see :mod:`.base`)."""

from rnnkit.serve.adapters.base import Prepared, TaskAdapter, adapter_for, register_adapter
from rnnkit.serve.adapters import (anomaly, asr, classify_series, classify_text, forecast,  # noqa: F401
                                    lm, seq2seq)  # registers each task's adapter

__all__ = ["Prepared", "TaskAdapter", "adapter_for", "register_adapter"]
