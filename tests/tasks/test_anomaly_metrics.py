"""Anomaly metrics on hand-computed cases: point P/R/F1, point-adjusted F1, NAB windows,
the scaled sigmoid and normalized NAB scores."""

import math

import numpy as np
import pytest

from rnnkit.tasks.anomaly.metrics import (
    detection_scores,
    nab_score,
    nab_windows,
    point_adjust,
    point_adjusted_f1,
    point_scores,
    scaled_sigmoid,
)
from rnnkit.tasks.anomaly.runs import runs

LABELS = [0, 1, 1, 0, 0, 1, 0, 0]
FLAGS = [0, 1, 0, 0, 1, 1, 0, 0]


def test_runs():
    assert runs([0, 1, 1, 0, 1]).tolist() == [[1, 2], [4, 4]]
    assert runs([1, 1]).tolist() == [[0, 1]]
    assert runs([]).shape == (0, 2) and runs([0, 0]).shape == (0, 2)


def test_point_precision_recall_f1_by_hand():
    # TP = {1, 5}; flagged = {1, 4, 5}; true = {1, 2, 5}
    s = point_scores(LABELS, FLAGS)
    assert s == pytest.approx({"precision": 2 / 3, "recall": 2 / 3, "F1": 2 / 3})


def test_point_scores_zero_division_is_zero():
    assert point_scores([0, 1, 0], [0, 0, 0]) == {"precision": 0.0, "recall": 0.0, "F1": 0.0}
    assert point_scores([0, 0, 0], [1, 0, 0])["F1"] == 0.0


def test_point_adjusted_f1_by_hand():
    # the labelled run [1, 2] holds a flag at 1, so 2 counts too: flags {1, 2, 4, 5}
    assert point_adjust(LABELS, FLAGS).astype(int).tolist() == [0, 1, 1, 0, 1, 1, 0, 0]
    precision, recall = 3 / 4, 1.0
    assert point_adjusted_f1(LABELS, FLAGS) == pytest.approx(2 * precision * recall / (precision + recall))
    # a run with no flag stays missed
    assert point_adjusted_f1([0, 1, 1, 0], [1, 0, 0, 0]) == 0.0


def test_scaled_sigmoid_known_values():
    # 2 / (1 + e^{5y}) - 1 = tanh(-5y / 2)
    assert scaled_sigmoid(-1.0) == pytest.approx(math.tanh(2.5)) == pytest.approx(0.98661, abs=1e-5)
    assert scaled_sigmoid(-0.5) == pytest.approx(0.84828, abs=1e-5)
    assert scaled_sigmoid(0.0) == 0.0
    assert scaled_sigmoid(1.0) == pytest.approx(-0.98661, abs=1e-5)
    assert scaled_sigmoid(3.0) == -1.0 and scaled_sigmoid(7.0) == -1.0


def labels_at(T, *points):
    y = np.zeros(T, dtype=int)
    for p in points:
        y[p] = 1
    return y


def flags_at(T, *points):
    return labels_at(T, *points)


def test_nab_windows_are_10_percent_over_the_anomaly_count():
    # T = 100, one anomaly: w = 10, half 5 -> [45, 55]
    assert nab_windows(labels_at(100, 50)).tolist() == [[45, 55]]
    # two anomalies: w = 5, half 2 -> [48, 52] and [51, 55] overlap -> merged
    assert nab_windows(labels_at(100, 50, 53)).tolist() == [[48, 55]]
    # far apart: two windows; clipped at the edges
    assert nab_windows(labels_at(100, 1, 90)).tolist() == [[0, 3], [88, 92]]
    # a labelled range [20, 24] widens by half a window each side
    y = np.zeros(100, dtype=int)
    y[20:25] = 1
    assert nab_windows(y).tolist() == [[15, 29]]


def test_nab_perfect_null_and_early_detection():
    y = labels_at(100, 50)  # window [45, 55], width 11
    assert nab_score(y, flags_at(100, 45)).score == pytest.approx(100.0)  # at the window start
    assert nab_score(y, flags_at(100)).score == pytest.approx(0.0)  # the null detector
    r = nab_score(y, flags_at(100, 50))  # y = -(55 - 50 + 1) / 11
    weight = math.tanh(2.5 * 6 / 11) / math.tanh(2.5)
    assert r.raw == pytest.approx(weight)
    assert r.score == pytest.approx(100 * (weight + 1) / 2)
    assert (r.null, r.perfect, r.windows, r.detected) == (-1.0, 1.0, 1, 1)
    # only the best (earliest) flag in a window counts
    assert nab_score(y, flags_at(100, 45, 50, 52)).score == pytest.approx(100.0)


def test_nab_false_positives():
    y = labels_at(100, 50)
    # no window before: A_FP = -0.11 in full, and the window is missed (A_FN = -1)
    r = nab_score(y, flags_at(100, 10))
    assert r.raw == pytest.approx(-1.11) and r.score == pytest.approx(100 * (-1.11 + 1) / 2)
    assert r.false_positives == 1
    # after the window [45, 55]: y = (60 - 55) / (11 - 1) = 0.5, worth 0.11 * sigma(0.5)
    r = nab_score(y, flags_at(100, 45, 60))
    fp = 0.11 * math.tanh(-1.25)
    assert r.raw == pytest.approx(1 + fp)
    assert r.score == pytest.approx(100 * (1 + fp + 1) / 2)
    # far after the window (y >= 3): the full -0.11
    assert nab_score(y, flags_at(100, 45, 90)).raw == pytest.approx(1 - 0.11)


def test_nab_two_windows_one_found():
    y = labels_at(200, 50, 150)  # w = 10, half 5: [45, 55] and [145, 155]
    r = nab_score(y, flags_at(200, 145))
    assert r.windows == 2 and r.detected == 1
    assert r.raw == pytest.approx(1 - 1)  # one perfect, one missed
    assert r.score == pytest.approx(100 * (0 + 2) / 4)


def test_nab_without_labels_is_nan():
    assert math.isnan(nab_score(np.zeros(10), np.ones(10)).score)


def test_detection_scores_row():
    row = detection_scores(LABELS, FLAGS)
    assert list(row) == ["precision", "recall", "F1", "PA_F1", "NAB"]
