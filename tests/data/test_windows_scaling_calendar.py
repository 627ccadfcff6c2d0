import numpy as np
import pandas as pd

from rnnkit.data.calendar import calendar_features, feature_names
from rnnkit.data.scaling import SeriesScaler
from rnnkit.data.synthetic import adding_problem
from rnnkit.data.windows import take_windows, window_starts


def test_windows_cover_every_full_window():
    values = np.arange(10.0).reshape(10, 1)
    starts = window_starts(10, lookback=3, horizon=2)
    assert starts.tolist() == [0, 1, 2, 3, 4, 5]
    x = take_windows(values, starts, 3)
    y = take_windows(values, starts, 2, offset=3)
    assert x[5, :, 0].tolist() == [5, 6, 7] and y[5, :, 0].tolist() == [8, 9]
    assert window_starts(4, 3, 2).size == 0


def test_scaler_round_trip_and_constant_column():
    a = np.array([[1.0, 5.0], [3.0, 5.0]])
    sc = SeriesScaler.fit([a])
    np.testing.assert_allclose(sc.transform(a, 0), [[-1, 0], [1, 0]])
    np.testing.assert_allclose(sc.inverse(sc.transform(a, 0), 0), a)
    back = SeriesScaler.from_dict(sc.to_dict())
    np.testing.assert_array_equal(back.mean, sc.mean)


def test_calendar_features_are_periodic():
    times = pd.date_range("2024-01-01", periods=14, freq="D")
    f = calendar_features(times, "D")
    assert f.shape == (14, len(feature_names("D")))
    np.testing.assert_allclose(f[0, :2], f[7, :2], atol=1e-6)  # day of week repeats weekly


def test_adding_problem_targets():
    x, y = adding_problem(5, 20, seed=0)
    assert x.shape == (5, 20, 2) and (x[..., 1].sum(1) == 2).all()
    np.testing.assert_allclose(y[:, 0], (x[..., 0] * x[..., 1]).sum(1))
