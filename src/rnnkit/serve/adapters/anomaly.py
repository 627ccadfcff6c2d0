"""Serving an :class:`~rnnkit.AnomalyDetector`: score whole series, or follow live streams.

``predict`` instance: one series, channels by name (optionally with timestamps)::

    {"values": {"value": [0.1, 0.3, ...]}, "time": ["2024-01-01 00:00", ...]}

answer: per step the smoothed error ``score``, the ``threshold`` it was compared with and
the ``anomaly`` flag (NaN scores of the unscored first steps are null), plus the anomaly
ranges. A session is ``detector.stream()`` kept on the server: each ``step`` sends one or
more new rows and gets one result per row; the steps of many prediction-error sessions
share one network pass (:func:`rnnkit.tasks.anomaly.stream.step_many`), and a session's
results equal ``detect`` on the same rows.
"""

from __future__ import annotations

from typing import Optional

import numpy as np
from pydantic import BaseModel, Field

from rnnkit.errors import DataError, problem, unknown_name
from rnnkit.serve import ranges
from rnnkit.serve.adapters.base import Prepared, Strict, TaskAdapter, floats, per_item, register_adapter
from rnnkit.tasks.anomaly.stream import PredictorStream, step_many

EXAMPLE_ROWS = 4096  # longest OpenAPI example: a longer one gets a schema-only example


class SeriesInstance(Strict):
    values: dict[str, list[float]] = Field(description="Channel name -> one number per step.")
    time: Optional[list[str]] = Field(None, description="Optional timestamps, echoed in ranges.")


class AnomalyRange(BaseModel):
    start_index: int
    end_index: int
    peak_score: Optional[float]
    channels: list[str]


class AnomalyPrediction(BaseModel):
    score: list[Optional[float]]
    threshold: list[Optional[float]]
    anomaly: list[bool]
    ranges: list[AnomalyRange]


class AnomalySessionOpen(Strict):
    pass


class AnomalyStep(Strict):
    values: dict[str, list[float]] = Field(description="Channel name -> the new steps' numbers.")


class StepScore(BaseModel):
    index: int
    score: Optional[float]
    threshold: Optional[float]
    anomaly: bool
    channels: list[str]


class AnomalyStepOutput(BaseModel):
    outputs: list[StepScore] = Field(description="One result per scored step (the autoencoder "
                                     "method answers a window's steps when its last step arrives).")
    steps_seen: int


def _table(values: dict, channels: list[str], where: str) -> np.ndarray:
    unknown = [k for k in values if k not in channels]
    if unknown:
        raise DataError(f"{where}: " + unknown_name("channel", unknown[0], channels))
    missing = [k for k in channels if k not in values]
    if missing:
        raise DataError(problem(f"{where}: values", expected=f"channels {channels}", got=f"missing {missing}"))
    n = {len(values[k]) for k in channels}
    if len(n) != 1 or 0 in n:
        raise DataError(problem(f"{where}: values", expected="the same number (>= 1) of steps per channel",
                                got={k: len(values[k]) for k in channels}))
    return np.asarray([values[k] for k in channels], dtype=np.float64).T  # (T, C)


@register_adapter("anomaly")
class AnomalyDetectorAdapter(TaskAdapter):
    Instance, Prediction = SeriesInstance, AnomalyPrediction
    SessionOpen, Step, StepOutput = AnomalySessionOpen, AnomalyStep, AnomalyStepOutput

    def __init__(self, estimator, name: str) -> None:
        super().__init__(estimator, name)
        self.channels = list(estimator.columns_["channels"])

    def describe(self) -> dict:
        d = self.estimator
        return {**super().describe(), "inputs": {"channels": self.channels},
                "method": d.config.method, "min_length": d.min_detect_length()[0],
                "metrics": getattr(d, "metrics_", {})}

    def example_instance(self) -> dict:
        n = self.estimator.min_detect_length()[0] + 5
        if n > EXAMPLE_ROWS:
            raise DataError(f"example: {n} steps is longer than an OpenAPI example may be ({EXAMPLE_ROWS})")
        return {"values": {c: [round(float(m), 3)] * n for c, m in zip(self.channels, self.estimator.mean_)}}

    def example_step(self) -> dict:
        return {"values": {c: [round(float(m), 3)] for c, m in zip(self.channels, self.estimator.mean_)}}

    def drift_features(self):
        return self.channels, self.estimator.mean_, self.estimator.std_

    def prepare(self, instance: SeriesInstance) -> Prepared:
        table = _table(instance.values, self.channels, "instance")
        need, rule = self.estimator.min_detect_length()
        if len(table) < need:
            raise DataError(problem("instance: series length", expected=f">= {rule} = {need} steps",
                                    got=len(table)))
        if instance.time is not None and len(instance.time) != len(table):
            raise DataError(problem("instance: time", expected=f"{len(table)} timestamps (one per step)",
                                    got=len(instance.time)))
        self._check_range(table, "instance")
        return Prepared(table, len(table), table)

    def _check_range(self, table: np.ndarray, where: str) -> None:
        d = self.estimator
        ranges.check_scaled(table, d.mean_, np.where(d.std_ > 0, d.std_, 1.0), self.channels, where)

    def predict_batch(self, tables: list) -> list:
        return per_item(self._detect, tables)

    def _detect(self, table: np.ndarray) -> AnomalyPrediction:
        points, ranges = self.estimator.detect_arrays(table, np.arange(len(table)))
        spans = [AnomalyRange(start_index=int(r.start_index), end_index=int(r.end_index),
                              peak_score=floats([r.score])[0], channels=list(r.channels))
                 for r in ranges.itertuples()]
        return AnomalyPrediction(score=floats(points["score"]), threshold=floats(points["threshold"]),
                                 anomaly=[bool(a) for a in points["anomaly"]], ranges=spans)

    # ---- sessions -----------------------------------------------------------------------
    def open_session(self, body):
        return self.estimator.stream()

    def prepare_step(self, stream, step: AnomalyStep) -> Prepared:
        table = _table(step.values, self.channels, "step")
        self._check_range(table, "step")
        return Prepared(table, len(table), table)

    def step_batch(self, pairs: list) -> list:
        outputs: list = [[] for _ in pairs]
        rounds = max(len(table) for _, table in pairs)
        for r in range(rounds):
            active = [i for i, (_, table) in enumerate(pairs) if r < len(table)]
            batched = [i for i in active if isinstance(pairs[i][0], PredictorStream)]
            if batched:
                results = step_many([pairs[i][0] for i in batched], [pairs[i][1][r] for i in batched])
                for i, res in zip(batched, results):
                    outputs[i].append(res)
            for i in active:
                if not isinstance(pairs[i][0], PredictorStream):  # autoencoder: per stream
                    res = pairs[i][0].step(pairs[i][1][r])
                    if res is not None:
                        outputs[i].append(res)
        return [AnomalyStepOutput(outputs=[_score(r) for r in outs], steps_seen=stream.steps)
                for (stream, _), outs in zip(pairs, outputs)]


def _score(r) -> StepScore:
    score, threshold = floats([r.score, r.threshold])
    return StepScore(index=r.index, score=score, threshold=threshold, anomaly=bool(r.anomaly),
                     channels=list(r.channels))
