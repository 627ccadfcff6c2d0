"""The Forecaster recipe on a real series (small slice, few epochs) and on synthetic data
with a known answer."""

import numpy as np
import pandas as pd
import pytest
import torch

import rnnkit
from rnnkit.errors import BundleError, ConfigError, DataError, NotFittedError
from rnnkit.tasks.forecast import baselines as B
from rnnkit.tasks.forecast.metrics import interval_metrics, point_metrics


def seasonal_frame(n=400, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = 10 + 3 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 0.3, n)
    return pd.DataFrame({"date": pd.date_range("2020-01-01", periods=n, freq="D"), "y": y})


@pytest.fixture(scope="module")
def fitted():
    f = rnnkit.Forecaster(lookback=21, horizon=7, hidden_size=32, epochs=15, seed=0, guard="keep")
    result = f.backtest(seasonal_frame(), time="date", target="y", origins=6)
    return f, result


def test_learns_a_weekly_cycle_better_than_naive(fitted):
    _, result = fitted
    t = result.table
    assert t.loc["rnnkit", "MAE"] < t.loc["naive", "MAE"] * 0.5
    assert 0.5 <= t.loc["rnnkit", "coverage"] <= 1.0
    baselines = {"naive", "seasonal_naive", "drift", "ets"}
    assert {"rnnkit", *baselines} <= set(t.index) <= {"rnnkit", "network", *baselines}


def test_predict_frame_and_save_load_round_trip(fitted, tmp_path):
    f, _ = fitted
    df = seasonal_frame()
    pred = f.predict(df)
    assert list(pred.columns) == ["date", "step", "y", "y_lower", "y_upper"]
    assert len(pred) == 7 and pred["date"].iloc[0] == df["date"].iloc[-1] + pd.Timedelta(days=1)
    assert (pred["y_lower"] <= pred["y"]).all() and (pred["y"] <= pred["y_upper"]).all()
    path = f.save(tmp_path / "m.rnnkit")
    loaded = rnnkit.load(path)
    pd.testing.assert_frame_equal(loaded.predict(df), pred)


def test_truncated_model_file_is_refused(fitted, tmp_path):
    f, _ = fitted
    path = f.save(tmp_path / "m.rnnkit")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(BundleError):
        rnnkit.load(path)


def test_many_series_with_id_and_gaussian():
    a, b = seasonal_frame(200, 1), seasonal_frame(200, 2)
    a["id"], b["id"] = "a", "b"
    b["y"] = b["y"] * 100
    f = rnnkit.Forecaster(lookback=14, horizon=7, hidden_size=16, epochs=3, likelihood="gaussian")
    f.fit(pd.concat([a, b]), time="date", target="y", id="id")
    pred = f.predict(pd.concat([a, b]))
    assert set(pred["id"]) == {"a", "b"} and len(pred) == 14
    # per-series scaling: forecasts come back in each series' own units
    assert pred.loc[pred.id == "b", "y"].mean() > 50 * pred.loc[pred.id == "a", "y"].mean()


def test_errors():
    with pytest.raises(NotFittedError, match="not fitted"):
        rnnkit.Forecaster().predict(seasonal_frame())
    with pytest.raises(ConfigError, match="did you mean 'lookback'"):
        rnnkit.Forecaster(lookbak=5)
    with pytest.raises(DataError, match=r"series length: expected >= lookback \+ horizon \+ 1 = 64 rows, got 40"):
        rnnkit.Forecaster(lookback=56).fit(seasonal_frame(40), time="date", target="y")
    with pytest.raises(DataError, match="did you mean 'y'"):
        rnnkit.Forecaster().fit(seasonal_frame(), time="date", target="yy")


def test_baselines_by_hand():
    h = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    assert B.naive(h, 2, 1, 0.8)[0].tolist() == [6.0, 6.0]
    assert B.seasonal_naive(h, 4, 3, 0.8)[0].tolist() == [4.0, 5.0, 6.0, 4.0]
    np.testing.assert_allclose(B.drift(h, 2, 1, 0.8)[0], [7.0, 8.0])
    assert B.mase_scale(h, 1) == 1.0


def test_mase_scale_of_a_history_that_repeats_exactly_falls_back_to_lag_one():
    t = np.arange(120)
    periodic = 10 + np.sin(2 * np.pi * t / 12)  # seasonal differences are rounding noise, ~1e-15
    assert 0 < np.abs(periodic[12:] - periodic[:-12]).max() < 1e-12  # not exactly zero ...
    lag_one = np.mean(np.abs(np.diff(periodic)))  # ... so the naive forecast's error scales MASE
    assert B.mase_scale(periodic, 12) == pytest.approx(lag_one)
    assert np.isnan(B.mase_scale(np.full(30, 5.0), 7))  # constant: MASE undefined
    noisy = periodic + 1e-3 * np.random.default_rng(0).normal(size=120)
    assert 1e-4 < B.mase_scale(noisy, 12) < 1e-2
    tiny = 1e-6 * (1 + 0.01 * np.random.default_rng(1).normal(size=60))  # small units, real changes
    assert B.mase_scale(tiny, 1) > 0


def test_metrics_by_hand():
    y = np.array([[1.0, 2.0], [4.0, 4.0]])
    yhat = np.array([[2.0, 2.0], [4.0, 2.0]])
    m = point_metrics(y, yhat, np.array([1.0, 2.0]))
    assert m["MAE"] == 0.75 and m["RMSE"] == pytest.approx(np.sqrt(5 / 4))
    assert m["MAPE"] == pytest.approx(100 * (1 + 0 + 0 + 0.5) / 4)
    assert m["MASE"] == pytest.approx((0.5 / 1 + 1.0 / 2) / 2)
    cov = interval_metrics(y, y - 0.5, y + (np.array([[1, 0], [0, 0]]) - 0.5))
    assert cov["coverage"] == 0.25 and cov["width"] == pytest.approx(0.25)


def test_past_and_static_covariates_are_used():
    """y follows a random driver x with a one-step lag: only a model that reads the past
    covariate x can forecast step 1 well."""
    rng = np.random.default_rng(0)
    frames = []
    for k, level in enumerate([0.0, 50.0]):
        x = rng.normal(0, 1, 300)
        y = level + 2.0 * np.roll(x, 1) + rng.normal(0, 0.05, 300)
        frames.append(pd.DataFrame({"date": pd.date_range("2021-01-01", periods=300, freq="D"),
                                    "x": x, "y": y, "id": f"s{k}", "level": level}))
    df = pd.concat(frames)
    kw = dict(lookback=14, horizon=1, hidden_size=32, epochs=30, seed=0, calendar=False)
    with_x = rnnkit.Forecaster(**kw).backtest(df, time="date", target="y", id="id",
                                              past_covariates=["x"], static_covariates=["level"],
                                              origins=20)
    without = rnnkit.Forecaster(**kw).backtest(df, time="date", target="y", id="id", origins=20)
    assert with_x.table.loc["rnnkit", "MAE"] < 0.5 * without.table.loc["rnnkit", "MAE"]


def test_stream_gives_predict_forecasts(fitted):
    f, _ = fitted
    df = seasonal_frame(60)
    stream = f.stream()
    outs = [stream.step(row) for row in df.to_dict(orient="records")]
    assert all(o is None for o in outs[:20]) and outs[20] is not None
    pd.testing.assert_frame_equal(outs[-1], f.predict(df.iloc[-f.history_rows_ - 2:]))
    pd.testing.assert_frame_equal(outs[-1], f.predict(df))


def test_backtest_result_is_a_report_and_network_inputs_give_predict(fitted, tmp_path):
    f, result = fitted
    assert isinstance(result, rnnkit.tasks.core.Report) and "windows=6" in repr(result)
    assert result.plot_forecasts(tmp_path / "bt.png").exists()
    df = seasonal_frame()
    inputs = f.network_inputs(df)
    assert inputs.past.shape == (1, 21, f.dims_["n_inputs"]) and inputs.future.shape[:2] == (1, 7)
    with torch.no_grad():
        point = f.likelihood_.summarize(f.model_(inputs.past, inputs.future, inputs.static))[0]
    np.testing.assert_allclose(inputs.to_data_units(point.numpy())[0, :, 0], f.predict(df)["y"], rtol=1e-6)
    assert f.read(df).values[0].shape == (len(df), 1)
    assert f.settings_["season"] == 7 and f.settings_["freq"] == "D"
