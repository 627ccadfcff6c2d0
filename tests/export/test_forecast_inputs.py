"""``forecast_inputs`` / ``forecast_frame``: an exported forecaster in onnxruntime gives
the numbers ``Forecaster.predict`` gives, in data units."""

import numpy as np
import onnxruntime as ort
import pandas as pd
import pytest

import rnnkit
from rnnkit.errors import ConfigError, DataError
from rnnkit.export import forecast_frame, forecast_inputs, to_onnx

pytestmark = pytest.mark.usefixtures("one_thread")


def stores(n=90) -> pd.DataFrame:
    """Two daily series (ids "a", "b") with a past covariate and a static one."""
    t = np.arange(n)
    parts = []
    for k, store in enumerate("ab"):
        parts.append(pd.DataFrame({
            "store": store, "date": pd.date_range("2022-03-01", periods=n, freq="D"),
            "sales": 20 + 10 * k + 5 * np.sin(2 * np.pi * t / 7) + 0.05 * t,
            "price": np.cos(t / 5.0) + k, "size": 1.0 + k}))
    return pd.concat(parts, ignore_index=True)


SETTINGS = {"quantile": dict(cell="lstm"),
            "gaussian-log": dict(cell="gru", likelihood="gaussian", transform="log")}


@pytest.fixture(scope="module", params=list(SETTINGS))
def exported(request, tmp_path_factory):
    f = rnnkit.Forecaster(lookback=14, horizon=4, ensemble=1, hidden_size=8, epochs=1, seed=0, progress="none",
                          guard="keep",  # the graph is the network: the guard's baselines are not in it
                          **SETTINGS[request.param])
    f.fit(stores(), time="date", target="sales", id="store", past_covariates=["price"],
          static_covariates=["size"])
    path = tmp_path_factory.mktemp("onnx") / "stores.onnx"
    to_onnx(f, path, check=False)
    return f, ort.InferenceSession(str(path))


def test_inputs_are_the_graphs_named_arrays(exported):
    f, session = exported
    feeds = forecast_inputs(f, stores())
    assert sorted(feeds) == sorted(i.name for i in session.get_inputs())
    assert feeds["past"].shape == (2, 14, f.dims_["n_inputs"])
    assert feeds["future"].shape == (2, 4, f.dims_["n_future"]) and f.dims_["n_future"] > 0
    assert feeds["static"].shape == (2, 1)
    assert all(a.dtype == np.float32 for a in feeds.values())


def test_onnxruntime_gives_predicts_forecast_in_data_units(exported):
    f, session = exported
    df = stores()
    (out,) = session.run(["forecast"], forecast_inputs(f, df))
    got, want = forecast_frame(f, df, out), f.predict(df)
    assert list(got.columns) == list(want.columns) and "sales_lower" in got
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-4, atol=1e-4)


def test_inputs_follow_the_data_given(exported):
    f, session = exported
    df = stores()
    short = df.groupby("store").head(60)  # other last rows: other calendar days and values
    (out,) = session.run(["forecast"], forecast_inputs(f, short))
    pd.testing.assert_frame_equal(forecast_frame(f, short, out), f.predict(short),
                                  check_exact=False, rtol=1e-4, atol=1e-4)


def test_wrong_model_or_output_is_one_clear_error(exported):
    f, _ = exported
    with pytest.raises(ConfigError, match="expected a fitted rnnkit.Forecaster"):
        forecast_inputs(rnnkit.TextClassifier(), stores())
    with pytest.raises(DataError, match="forecast shape"):
        forecast_frame(f, stores(), np.zeros((1, 4, 1, 1), np.float32))
