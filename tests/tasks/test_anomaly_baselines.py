"""Baselines on hand cases, the injected anomalies (seeded, documented positions) and the
registered yahoo data set."""

import numpy as np
import pytest

from rnnkit.data import datasets
from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.anomaly.baselines import isolation_forest, rolling_zscore
from rnnkit.tasks.anomaly.inject import anomaly_length, inject


def test_rolling_zscore_by_hand():
    x = np.array([1.0, 3.0, 1.0, 3.0, 10.0, 2.0])[:, None]
    score, flags = rolling_zscore(x, window=4, z=3.0)
    # at t = 4 the previous four values have mean 2 and std 1: |10 - 2| / 1 = 8
    assert np.isnan(score[:4]).all()
    assert score[4] == pytest.approx(8.0)
    # at t = 5: previous 3, 1, 3, 10 -> mean 4.25, std sqrt(11.6875)
    assert score[5] == pytest.approx(abs(2 - 4.25) / np.sqrt(11.6875))
    assert flags.tolist() == [False, False, False, False, True, False]


def test_rolling_zscore_takes_the_worst_channel_and_handles_flat_history():
    x = np.zeros((6, 2))
    x[5, 1] = 1.0  # flat history, then a change: infinitely unusual
    score, flags = rolling_zscore(x, window=3)
    assert score[5] == np.inf and flags[5] and not flags[4] and score[4] == 0.0


def test_isolation_forest_flags_a_spike():
    t = np.arange(600)
    x = np.sin(2 * np.pi * t / 25)[:, None]
    x[450] += 4.0
    score, flags = isolation_forest(x, train_end=300, window=8)
    assert np.isnan(score[:7]).all() and not flags[:7].any()
    assert flags[450] and score[450] > np.nanpercentile(score[300:], 95)


def test_inject_is_seeded_and_labelled():
    base = np.sin(np.arange(1200) / 10.0)
    a, labels, done = inject(base, start=480, seed=0)
    b, labels_b, done_b = inject(base, start=480, seed=0)
    np.testing.assert_array_equal(a, b)
    assert done == done_b and [d.kind for d in done] == ["spike", "level_shift", "spike", "drift", "frozen"]
    n = anomaly_length(1200)
    assert n == 20
    changed = np.flatnonzero(labels)
    assert changed.min() >= 480 and labels.sum() == 2 + 3 * n
    for d in done:
        assert labels[d.start:d.end + 1].all() and d.end - d.start + 1 == (1 if d.kind == "spike" else n)
    spike = done[0]
    assert a[spike.start] - base[spike.start] == pytest.approx(spike.magnitude)
    assert abs(spike.magnitude) == pytest.approx(3 * base[:480].std())
    frozen = done[4]
    assert (a[frozen.start:frozen.end + 1] == base[frozen.start - 1]).all()
    other = inject(base, start=480, seed=1)[2]
    assert [d.start for d in other] != [d.start for d in done]
    np.testing.assert_array_equal(a[labels == 0], base[labels == 0])  # nothing else moved


def test_inject_errors():
    with pytest.raises(ConfigError, match="did you mean 'spike'"):
        inject(np.zeros(500), start=100, kinds=("spik",))
    with pytest.raises(DataError, match="inject: room after start"):
        inject(np.zeros(60), start=50)


def test_yahoo_is_registered():
    info = datasets.info("yahoo")
    assert info.kind == "anomaly" and info.extra == {"labels": "label"}
    frame = datasets.load("yahoo")
    assert list(frame.columns) == ["timestamp", "value", "label"]
    assert len(frame) == 1000 and frame.label.sum() == 7
    assert frame.label.to_numpy().nonzero()[0].tolist() == [431, 478, 610, 681, 718, 732, 846]
