"""SequenceClassifier on real panels from sktime: small, few epochs, far above chance."""

import pytest

from rnnkit.data.panels import load_panel
from rnnkit.tasks.classify_series import SequenceClassifier

pytest.importorskip("sktime")


def test_basic_motions_beats_chance_side_by_side_with_baselines():
    X, y = load_panel("basic-motions", "train")
    X_test, y_test = load_panel("basic-motions", "test")
    clf = SequenceClassifier(hidden_size=16, epochs=25, patience=25, batch_size=8, seed=0).fit(X, y)
    table = clf.evaluate(X_test, y_test).table
    assert table.loc["rnnkit", "accuracy"] >= 0.6  # chance: 0.25
    assert set(table.index) == {"rnnkit", "nearest_centroid", "1nn_euclidean", "1nn_dtw"}
    assert table.loc["1nn_dtw", "accuracy"] >= 0.8


def test_japanese_vowels_slice_variable_length():
    X, y = load_panel("japanese-vowels", "train")
    X_test, y_test = load_panel("japanese-vowels", "test")
    assert len({len(s) for s in X}) > 5  # really variable length
    clf = SequenceClassifier(cell="gru", hidden_size=24, epochs=12, val_fraction=0.0, seed=0)
    clf.fit(X[::2], y[::2])  # 135 series, 15 per speaker
    assert clf.score(X_test[::4], y_test[::4]) >= 0.7  # chance: about 0.11
    assert clf.predict(X_test[:2]).dtype.kind == "U"
