"""Task adapters: how each task's estimator is served (see :mod:`.base`)."""

from rnnkit.serve.adapters import (  # noqa: F401
                                    anomaly,
                                    asr,
                                    chat,
                                    classify_series,
                                    classify_text,
                                    forecast,
                                    lm,  # registers each task's adapter
                                    seq2seq,
)
from rnnkit.serve.adapters.base import Prepared, TaskAdapter, adapter_for, register_adapter

__all__ = ["Prepared", "TaskAdapter", "adapter_for", "register_adapter"]
