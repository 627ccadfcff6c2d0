"""Export rnnkit networks to ONNX, checked against torch in onnxruntime.

>>> import rnnkit
>>> report = rnnkit.export.to_onnx(estimator, "model.onnx")                 # doctest: +SKIP
>>> print(report)                                                           # doctest: +SKIP
>>> feeds = rnnkit.export.forecast_inputs(forecaster, df)  # the graph's inputs   # doctest: +SKIP
>>> rnnkit.export.forecast_frame(forecaster, df, out)      # its output as predict's frame  # doctest: +SKIP

See ``docs/export.md``: the sequence graph (dynamic batch and length), the step graph
(state in and out, for streaming), what each extra maps to and the limits. Each task's
graphs are described by its adapter (:mod:`rnnkit.export.base`), one module per task.
"""

from rnnkit.export import (  # noqa: F401
                           anomaly,
                           classify_series,
                           classify_text,
                           forecast,
                           lm,  # registers each task's adapter
)
from rnnkit.export.base import Adapter, adapter_for, register_adapter
from rnnkit.export.feeds import forecast_frame, forecast_inputs
from rnnkit.export.onnx import KINDS, ExportReport, ParityError, to_onnx

__all__ = ["to_onnx", "ExportReport", "ParityError", "KINDS", "Adapter", "adapter_for",
           "register_adapter", "forecast_inputs", "forecast_frame"]
