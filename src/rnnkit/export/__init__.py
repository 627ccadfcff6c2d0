"""Export rnnkit networks to ONNX, checked against torch in onnxruntime.

>>> import rnnkit
>>> report = rnnkit.export.to_onnx(estimator, "model.onnx")                 # doctest: +SKIP
>>> print(report)                                                           # doctest: +SKIP

See ``docs/export.md``: the sequence graph (dynamic batch and length), the step graph
(state in and out, for streaming), what each extra maps to and the limits.
"""

from rnnkit.export.onnx import KINDS, ExportReport, ParityError, to_onnx

__all__ = ["to_onnx", "ExportReport", "ParityError", "KINDS"]
