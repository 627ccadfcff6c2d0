"""Panels: the sktime loaders, the long-table round trip and per-channel scaling."""

import numpy as np
import pandas as pd
import pytest

from rnnkit.data import datasets
from rnnkit.data.panels import ChannelScaler, from_sktime, load_panel, panel_frame, panel_from_frame
from rnnkit.errors import DataError

SIZES = {"japanese-vowels": (270, 370, 12, 9), "basic-motions": (40, 40, 6, 4),
         "italy-power-demand": (67, 1029, 1, 2)}


@pytest.mark.parametrize("name", sorted(SIZES))
def test_loaders_give_lists_of_time_by_channel_arrays(name):
    pytest.importorskip("sktime")
    n_train, n_test, channels, classes = SIZES[name]
    X, y = load_panel(name, "train")
    X_test, y_test = load_panel(name, "test")
    assert (len(X), len(X_test)) == (n_train, n_test) and len(y) == n_train and len(y_test) == n_test
    assert all(s.ndim == 2 and s.shape[1] == channels and s.dtype == np.float64 for s in X + X_test)
    assert all(np.isfinite(s).all() for s in X)
    assert len(set(y)) == classes
    assert datasets.info(name).kind == "classification"


def test_japanese_vowels_has_variable_length():
    pytest.importorskip("sktime")
    X, _ = load_panel("japanese-vowels", "test")
    lengths = {len(s) for s in X}
    assert min(lengths) == 7 and max(lengths) == 29


def test_registry_frame_round_trips_to_the_panel():
    pytest.importorskip("sktime")
    frame = datasets.load("italy-power-demand")
    assert list(frame.columns) == ["split", "series", "step", "dim_0", "label"]
    X, y = panel_from_frame(frame[frame["split"] == "test"])
    X_ref, y_ref = load_panel("italy-power-demand", "test")
    assert len(X) == len(X_ref) and (y == y_ref).all()
    np.testing.assert_array_equal(X[5], X_ref[5])
    assert panel_frame("italy-power-demand").shape == frame.shape


def test_from_sktime_layouts():
    numpy3d = np.arange(2 * 3 * 4, dtype=float).reshape(2, 3, 4)  # (N, C, T)
    series = from_sktime(numpy3d)
    assert series[0].shape == (4, 3) and series[1][2, 1] == numpy3d[1, 1, 2]
    nested = pd.DataFrame({"dim_0": [pd.Series([1.0, 2.0]), pd.Series([3.0, 4.0, 5.0])],
                           "dim_1": [pd.Series([0.0, 0.0]), pd.Series([1.0, 1.0, 1.0])]})
    series = from_sktime(nested)
    assert [s.shape for s in series] == [(2, 2), (3, 2)]
    np.testing.assert_array_equal(series[1][:, 0], [3, 4, 5])


def test_panel_from_frame_sorts_steps_and_refuses_two_labels():
    frame = pd.DataFrame({"series": [1, 1, 0], "step": [1, 0, 0], "x": [2.0, 1.0, 9.0],
                          "label": ["a", "a", "b"]})
    X, y = panel_from_frame(frame)
    np.testing.assert_array_equal(X[0][:, 0], [1.0, 2.0])  # series 1 first: order of appearance
    assert y.tolist() == ["a", "b"]
    frame.loc[0, "label"] = "b"
    with pytest.raises(DataError, match="series 1 label: expected one label per series, got 2"):
        panel_from_frame(frame)


def test_unknown_panel_and_split():
    with pytest.raises(DataError, match="did you mean 'basic-motions'"):
        load_panel("basic-motion")
    with pytest.raises(DataError, match="did you mean 'test'"):
        load_panel("basic-motions", "tset")


def test_channel_scaler_pools_every_step_and_is_fitted_on_train_only():
    train = [np.array([[0.0, 5.0], [2.0, 5.0]]), np.array([[4.0, 5.0]])]
    scaler = ChannelScaler.fit(train)
    np.testing.assert_allclose(scaler.mean, [2.0, 5.0])
    np.testing.assert_allclose(scaler.scale, [np.std([0, 2, 4]), 1.0])  # constant channel: 1
    test = [np.array([[2.0, 6.0]])]
    np.testing.assert_allclose(scaler.transform(test)[0], [[0.0, 1.0]])
    np.testing.assert_allclose(scaler.inverse(scaler.transform(train))[0], train[0], atol=1e-6)
    again = ChannelScaler.from_dict(scaler.to_dict())
    np.testing.assert_array_equal(again.mean, scaler.mean)
