"""Serving a :class:`~rnnkit.SequenceClassifier`: class probabilities of numeric series.

``predict`` instance: one series as rows of channel values ``(T, C)`` (a flat list is one
channel)::

    {"series": [[0.1, 1.2], [0.3, 1.1], ...]}

answer: the most probable label and the probability of each class. Series of many
requests are grouped by length and classified in one padded pass; padding never changes
a series' answer.
"""

from __future__ import annotations

from typing import Union

import numpy as np
from pydantic import BaseModel, Field

from rnnkit.errors import DataError, problem
from rnnkit.serve import ranges
from rnnkit.serve.adapters.base import Prepared, Strict, TaskAdapter, register_adapter


class SeriesRows(Strict):
    series: Union[list[list[float]], list[float]] = Field(
        min_length=1, description="Rows of channel values (T, C), oldest first; a flat list is one channel.")


class ClassPrediction(BaseModel):
    label: Union[str, int, float, bool]
    probabilities: dict[str, float]


@register_adapter("classify-series")
class SequenceClassifierAdapter(TaskAdapter):
    Instance, Prediction = SeriesRows, ClassPrediction

    def describe(self) -> dict:
        c = self.estimator
        return {**super().describe(), "inputs": {"channels": int(c.n_channels_)},
                "classes": [_label(k) for k in c.classes_], "metrics": getattr(c, "metrics_", {})}

    def example_instance(self) -> dict:
        c = self.estimator
        row = [round(float(m), 3) for m in c.scaler_.mean]
        return {"series": [row] * 8}

    def drift_features(self):
        c = self.estimator
        return [f"channel_{k}" for k in range(c.n_channels_)], c.scaler_.mean, c.scaler_.scale

    def prepare(self, instance: SeriesRows) -> Prepared:
        C = self.estimator.n_channels_
        rows = instance.series
        if rows and not isinstance(rows[0], list):
            rows = [[v] for v in rows]
        widths = {len(r) for r in rows}
        if widths != {C}:
            raise DataError(problem("instance: series rows", expected=f"{C} channel values per row",
                                    got=f"rows of {sorted(widths)} values"))
        x = np.asarray(rows, dtype=np.float64)  # (T, C)
        sc = self.estimator.scaler_
        ranges.check_scaled(x, sc.mean, sc.scale, [f"channel_{k}" for k in range(C)], "instance", "series")
        return Prepared(x, len(x), x)

    def predict_batch(self, series: list) -> list:
        c = self.estimator
        p = c.predict_proba(series)  # (N, K), one length-bucketed pass
        names = [str(_label(k)) for k in c.classes_]
        return [ClassPrediction(label=_label(c.classes_[row.argmax()]),
                                probabilities={n: float(v) for n, v in zip(names, row)}) for row in p]


def _label(value):
    return value.item() if hasattr(value, "item") else value
