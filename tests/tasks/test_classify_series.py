"""SequenceClassifier: a synthetic variable-length problem with a known answer, padding
invariance, save/load, the scikit-learn contract and the errors users meet."""

import numpy as np
import pandas as pd
import pytest
import torch

import rnnkit
from rnnkit.errors import BundleError, ConfigError, DataError, NotFittedError, ShapeError
from rnnkit.tasks.classify_series import SequenceClassifier
from rnnkit.tasks.classify_series.model import SequenceClassifierNet
from rnnkit.tasks.common.labels import stratified_split


def sines(n, seed, lengths=(12, 60)):
    """Known answer: label "high" when the sine makes a cycle every 4-6 steps, "low" every
    16-24; random length, phase and amplitude, plus a noise channel."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for i in range(n):
        high = i % 2 == 0
        T = int(rng.integers(*lengths))
        period = rng.uniform(4, 6) if high else rng.uniform(16, 24)
        t = np.arange(T)
        wave = rng.uniform(0.5, 2) * np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi))
        X.append(np.stack([wave, rng.normal(0, 0.3, T)], axis=1))  # (T, 2)
        y.append("high" if high else "low")
    return X, np.array(y)


@pytest.fixture(scope="module")
def fitted():
    X, y = sines(160, seed=0)
    clf = SequenceClassifier(cell="gru", hidden_size=16, epochs=20, patience=20, batch_size=16, seed=0)
    return clf.fit(X, y)


def test_learns_sine_frequency_and_beats_chance(fitted):
    X, y = sines(100, seed=1)
    report = fitted.evaluate(X, y)
    assert list(report.table.index) == ["rnnkit", "nearest_centroid", "1nn_euclidean", "1nn_dtw"]
    assert list(report.table.columns) == ["accuracy", "macro_f1"]
    assert report.table.loc["rnnkit", "accuracy"] >= 0.9
    assert report.confusion["rnnkit"].to_numpy().sum() == 100
    assert list(fitted.classes_) == ["high", "low"]
    assert fitted.history_.rows and "val_accuracy" in fitted.history_.rows[0]


def test_predict_proba_rows_sum_to_one_and_predict_is_their_argmax(fitted):
    X, _ = sines(20, seed=2)
    proba = fitted.predict_proba(X)
    assert proba.shape == (20, 2)
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-9)
    np.testing.assert_array_equal(fitted.predict(X), fitted.classes_[proba.argmax(1)])


def test_padding_does_not_change_a_prediction(fitted):
    X, _ = sines(30, seed=3)
    short = min(X, key=len)
    longest = max(X, key=len)
    alone = fitted.predict_proba([short])[0]
    in_batch = fitted.predict_proba([longest, short, X[0]])[1]  # padded to len(longest)
    assert len(longest) > len(short)
    np.testing.assert_allclose(in_batch, alone, rtol=0, atol=1e-6)


@pytest.mark.parametrize("cell,extras", [("lstm", {}), ("gru", {"layer_norm": True}),
                                         ("rnn", {"zoneout": 0.1})])
@pytest.mark.parametrize("pooling", ["last", "mean", "last+mean"])
def test_network_logits_ignore_padding(cell, extras, pooling):
    net = SequenceClassifierNet(n_channels=3, n_classes=4, cell=cell, hidden_size=8, num_layers=2,
                                bidirectional=True, pooling=pooling, **extras).eval()
    x = torch.randn(3, 9, 3)
    lengths = torch.tensor([9, 4, 6])
    x[1, 4:] = 1e3  # garbage in the padding must not matter
    batch = net(x, lengths)
    for n in range(3):
        alone = net(x[n:n + 1, : lengths[n]], lengths[n:n + 1])
        torch.testing.assert_close(batch[n:n + 1], alone, rtol=0, atol=1e-5)


def test_save_load_round_trip(fitted, tmp_path):
    X, y = sines(20, seed=4)
    path = fitted.save(tmp_path / "sines.rnnkit")
    loaded = rnnkit.load(path)
    assert isinstance(loaded, SequenceClassifier)
    np.testing.assert_allclose(loaded.predict_proba(X), fitted.predict_proba(X), atol=1e-7)
    np.testing.assert_array_equal(loaded.classes_, fitted.classes_)
    before, after = fitted.evaluate(X, y).table, loaded.evaluate(X, y).table
    np.testing.assert_allclose(after.to_numpy(), before.to_numpy())


def test_without_the_training_set_a_loaded_model_skips_the_baselines(tmp_path):
    X, y = sines(40, seed=5)
    clf = SequenceClassifier(hidden_size=8, epochs=2, keep_train_set=False).fit(X, y)
    loaded = rnnkit.load(clf.save(tmp_path / "m.rnnkit"))
    with pytest.warns(UserWarning, match="keep_train_set=False"):
        table = loaded.evaluate(X, y).table
    assert list(table.index) == ["rnnkit"]


def test_any_hashable_labels_and_a_3d_array():
    X = np.random.default_rng(0).normal(size=(24, 10, 2))  # (N, T, C)
    X[12:, :, 0] += 3.0
    y = [7] * 12 + [-1] * 12
    clf = SequenceClassifier(hidden_size=8, epochs=3, val_fraction=0.0).fit(X, y)
    assert clf.classes_.tolist() == [-1, 7]
    assert set(clf.predict(X).tolist()) <= {-1, 7}
    tuples = [("a", 1)] * 12 + [("b", 2)] * 12  # hashable, fine to fit; not storable in JSON
    clf = SequenceClassifier(hidden_size=8, epochs=1, val_fraction=0.0).fit(X, tuples)
    assert clf.predict(X[:1])[0] in tuples


def test_tuple_labels_cannot_be_saved(tmp_path):
    X = np.random.default_rng(0).normal(size=(8, 5, 1))
    clf = SequenceClassifier(hidden_size=4, epochs=1, val_fraction=0.0).fit(X, [("a", 1), ("b", 2)] * 4)
    with pytest.raises(BundleError, match=r"got tuple \('a', 1\) \(map the labels to strings"):
        clf.save(tmp_path / "m.rnnkit")


def test_stratified_split_keeps_class_shares_and_every_class_in_training():
    codes = np.array([0] * 40 + [1] * 20 + [2] * 2 + [3])
    train, val = stratified_split(codes, 0.25, seed=0)
    assert len(np.intersect1d(train, val)) == 0 and len(train) + len(val) == len(codes)
    assert [int((codes[val] == k).sum()) for k in range(4)] == [10, 5, 1, 0]  # halves round up
    assert set(codes[train]) == {0, 1, 2, 3}


def test_scikit_learn_contract():
    clf = SequenceClassifier(hidden_size=8, epochs=3)
    assert clf.get_params()["hidden_size"] == 8
    assert clf.set_params(epochs=5) is clf and clf.config.epochs == 5
    assert not hasattr(clf, "model_") and clf.clone().get_params() == clf.get_params()
    sklearn_base = pytest.importorskip("sklearn.base")
    copy = sklearn_base.clone(clf)
    assert copy.get_params() == clf.get_params() and copy is not clf


def test_unfitted_and_bad_settings():
    X, _ = sines(4, seed=0)
    for use in ("predict", "predict_proba"):
        with pytest.raises(NotFittedError, match="not fitted yet: call fit"):
            getattr(SequenceClassifier(), use)(X)
    with pytest.raises(NotFittedError):
        SequenceClassifier().save("never.rnnkit")
    with pytest.raises(ConfigError, match="did you mean 'hidden_size'"):
        SequenceClassifier(hiden_size=4)
    with pytest.raises(ConfigError, match="unknown pooling 'max'"):
        SequenceClassifier(pooling="max").fit(*sines(10, seed=0))
    with pytest.raises(ConfigError, match=r"val_fraction: expected a number in \[0, 0.5\), got 0.7"):
        SequenceClassifier(val_fraction=0.7).fit(*sines(10, seed=0))


def test_bad_series_errors_name_the_sequence_and_step():
    fit = SequenceClassifier(epochs=1).fit
    good = [np.zeros((5, 2)), np.ones((6, 2))]
    with pytest.raises(ShapeError, match=r"X\[1\] channels: expected 2 \(as X\[0\]\), got 3"):
        fit([np.zeros((5, 2)), np.zeros((5, 3))], ["a", "b"])
    nan = [np.zeros((5, 2)), np.zeros((6, 2))]
    nan[1][3, 1] = np.nan
    with pytest.raises(DataError, match=r"X\[1\] at step 3, channel 1: expected finite values, got nan"):
        fit(nan, ["a", "b"])
    inf = [np.zeros((5, 2)), np.full((6, 2), np.inf)]
    with pytest.raises(DataError, match=r"X\[1\] at step 0, channel 0: expected finite values, got inf"):
        fit(inf, ["a", "b"])
    with pytest.raises(DataError, match=r"X\[1\] length: expected >= 1 step, got an empty sequence"):
        fit([np.zeros((5, 2)), np.zeros((0, 2))], ["a", "b"])
    with pytest.raises(DataError, match=r"expected at least 2 classes, got 1 class \('a'\)"):
        fit(good, ["a", "a"])
    with pytest.raises(DataError, match=r"expected one label per sequence \(2\), got 3 labels"):
        fit(good, ["a", "b", "c"])
    with pytest.raises(DataError, match=r"y\[1\]: expected a label, got nan"):
        fit(good, [1.0, float("nan")])
    with pytest.raises(ShapeError, match=r"got a 2-D array \(2, 5\) \(for N univariate series"):
        fit(np.zeros((2, 5)), ["a", "b"])
    with pytest.raises(DataError, match="expected at least one sequence, got none"):
        fit([], [])
    with pytest.raises(DataError, match=r"got a DataFrame \(convert an sktime nested DataFrame"):
        fit(pd.DataFrame({"dim_0": [1.0, 2.0]}), ["a", "b"])


def test_predict_checks_the_channel_count_and_needs_no_labels(fitted):
    with pytest.raises(ShapeError, match=r"predict: X\[0\] channels: expected 2 \(as in fit\), got 3"):
        fitted.predict([np.zeros((10, 3))])
    with pytest.raises(DataError, match=r"predict_proba: X\[0\] at step 2, channel 0"):
        fitted.predict_proba([np.array([[0.0, 0], [1, 1], [np.nan, 0]])])
    with pytest.warns(UserWarning, match=r"2 of 6 labels are none of the model's classes: \['mid'\]"):
        unseen = fitted.evaluate(*sines(6, seed=9)[:1], ["high", "low", "mid"] * 2)  # counted as errors
    assert "mid" in unseen.confusion["rnnkit"].index


def test_sktime_layout_warns():
    X = np.zeros((4, 6, 50))  # looks like sktime's (N, C, T)
    clf = SequenceClassifier(hidden_size=4, epochs=1, val_fraction=0.0)
    with pytest.warns(UserWarning, match=r"numpy3D layout is \(N, C, T\)"):
        clf.fit(X, ["a", "b"] * 2)


def test_labels_of_another_type_than_in_fit_are_an_error(fitted):
    X, _ = sines(4, seed=6)
    with pytest.raises(DataError, match=r"score: labels: expected some of the model's classes "
                                        r"\['high', 'low'\], got \[0, 1\], none of them a class"):
        fitted.score(X, [0, 1, 0, 1])
