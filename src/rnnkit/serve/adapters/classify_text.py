"""Serving a :class:`~rnnkit.TextClassifier`: labels and class probabilities of texts.

``predict`` instance: ``{"text": "tasty, fresh and cheap"}``; answer: the label (a list of
labels for a multi-label model) and the probability of each class. Texts are tokenized
on arrival; texts of many requests are grouped by token count and classified in one
padded pass (padding never changes a text's answer). Over-long texts are cut to the
model's ``max_length`` (or refused with 422 when the model was fitted with
``overlong="error"``); an empty text is 422.

The drift monitor follows each text's token count and share of unknown tokens against
the training texts' (kept in the model file).
"""

from __future__ import annotations

import math
import warnings
from typing import Union

import numpy as np
from pydantic import BaseModel, Field

from rnnkit.data.text.vocab import UNK_ID
from rnnkit.serve.adapters.base import Prepared, Strict, TaskAdapter, register_adapter
from rnnkit.serve.adapters.examples import known_text

Label = Union[str, int, float, bool]
# OpenAPI example candidates; a model that knows none gets a text of its own vocabulary
EXAMPLES = ["Tasty, fresh and not too sweet. I would buy this again.", "This is good.",
            "Das ist gut.", "C'est bon."]


class TextInstance(Strict):
    text: str = Field(min_length=1, max_length=1_000_000, description="The text to classify.")


class TextPrediction(BaseModel):
    label: Union[Label, list[Label]] = Field(description="The label, or the list of labels of a "
                                             "multi-label model (probability >= its threshold).")
    probabilities: dict[str, float]
    tokens: int = Field(description="Tokens the model read (after cutting to max_length).")


def _plain(value):
    return value.item() if hasattr(value, "item") else value


@register_adapter("classify-text")
class TextClassifierAdapter(TaskAdapter):
    Instance, Prediction = TextInstance, TextPrediction

    def __init__(self, estimator, name: str) -> None:
        super().__init__(estimator, name)
        self.classes = [_plain(k) for k in estimator.classes_]
        self.names = [str(k) for k in self.classes]

    def describe(self) -> dict:
        c = self.estimator
        return {**super().describe(), "classes": self.classes, "multilabel": bool(c.multilabel_),
                "max_length": c.encoder_.max_length, "metrics": getattr(c, "metrics_", {})}

    def example_instance(self) -> dict:
        return {"text": known_text(self.estimator.encoder_, EXAMPLES)}

    def drift_features(self):
        stats = getattr(self.estimator, "input_stats_", None) or {}
        tokens = stats.get("tokens", {})
        rate = stats.get("unknown_rate", math.nan)
        if not tokens:
            return ["tokens", "unknown_rate"], None, None
        spread = math.sqrt(rate * (1 - rate)) if 0 < rate < 1 else 1.0  # per-token Bernoulli spread
        return (["tokens", "unknown_rate"], np.array([tokens["mean"], rate]),
                np.array([tokens["std"], spread]))

    def prepare(self, instance: TextInstance) -> Prepared:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # truncation is reported per request as `tokens`
            ids = self.estimator.encode([instance.text])[0]
        unknown = sum(1 for t in ids if t == UNK_ID) / max(len(ids), 1)
        return Prepared(ids, len(ids), np.array([[len(ids), unknown]], dtype=np.float64))

    def predict_batch(self, id_lists: list) -> list:
        c = self.estimator
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            proba = c.predict_proba_ids(id_lists)  # (N, K)
        labels = c.labels_from_proba(proba)
        out = []
        for ids, p, label in zip(id_lists, proba, labels):
            label = [_plain(v) for v in label] if isinstance(label, list) else _plain(label)
            out.append(TextPrediction(label=label, probabilities={n: float(v) for n, v in zip(self.names, p)},
                                      tokens=len(ids)))
        return out
