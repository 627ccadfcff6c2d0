"""The AnomalyDetector recipe on short synthetic series: an injected spike is found and
attributed to its channel, the stream gives the scores of batch detection, the model file
round-trips, and the scikit-learn contract holds."""

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
import torch

import rnnkit
from rnnkit.bundle import read_bundle, save_bundle
from rnnkit.errors import BundleError, ConfigError, DataError, NotFittedError
from rnnkit.tasks.anomaly import AnomalyDetector, Detection
from rnnkit.tasks.anomaly.config import AnomalyConfig

SMALL = dict(hidden_size=16, epochs=8, window=24, batch_size=32, seed=0)


pytestmark = pytest.mark.usefixtures("one_thread")


def sine_frame(n=1200, seed=0, channels=("a",)):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    frame = pd.DataFrame({"time": pd.date_range("2021-01-01", periods=n, freq="h")})
    for k, name in enumerate(channels):
        frame[name] = np.sin(2 * np.pi * t / (24 + 12 * k)) + 0.05 * rng.normal(size=n)
    return frame


@pytest.fixture(scope="module")
def fitted():
    frame = sine_frame(channels=("a", "b"))
    det = AnomalyDetector(**SMALL).fit(frame.iloc[:700], time="time", columns=["a", "b"])
    return det, frame


def test_an_injected_spike_is_found_and_attributed(fitted):
    det, frame = fitted
    frame = frame.copy()
    frame.loc[1000, "b"] += 3.0
    points, ranges = det.detect(frame)
    assert points.loc[1000, "anomaly"] and points.loc[1000, "b_share"] > 0.9
    assert not points.loc[950:995, "anomaly"].any()
    hit = ranges[(ranges.start_index <= 1000) & (ranges.end_index >= 1000)]
    assert len(hit) == 1 and hit.iloc[0].channels == ["b"]
    assert hit.iloc[0].start == frame.time[1000]
    assert points["anomaly"].sum() <= 6  # nothing much else


def test_detect_output_shape(fitted):
    det, frame = fitted
    det_out = det.detect(frame)
    assert isinstance(det_out, Detection)
    points, ranges = det_out
    assert list(points.columns) == ["time", "score", "threshold", "anomaly", "a_share", "b_share"]
    assert len(points) == len(frame)
    assert points.score[: det.config.burn_in].isna().all() and points.score[det.config.burn_in:].notna().all()
    assert list(ranges.columns) == ["start", "end", "start_index", "end_index", "length", "score", "channels"]
    pd.testing.assert_frame_equal(det.predict(frame), points)


def stream_scores(det, frame, channels):
    stream, out = det.stream(), []
    for row in frame[channels].to_dict("records"):
        r = stream.step(row)
        if r is not None:
            out.append(r)
    return out


def assert_stream_equals_batch(det, frame, channels):
    points = det.detect(frame).points
    results = stream_scores(det, frame, channels)
    index = np.array([r.index for r in results])
    assert index.tolist() == list(range(len(results)))
    np.testing.assert_allclose([r.score for r in results], points.score.to_numpy()[index],
                               rtol=0, atol=1e-5)
    np.testing.assert_array_equal([r.anomaly for r in results], points.anomaly.to_numpy()[index])
    np.testing.assert_allclose([r.threshold for r in results], points.threshold.to_numpy()[index],
                               rtol=0, atol=1e-5)
    return results


def test_stream_equals_batch_on_thousands_of_steps(fitted):
    det, frame = fitted
    long = sine_frame(4000, seed=3, channels=("a", "b"))
    long.loc[[1500, 3100], "a"] += 3.0
    results = assert_stream_equals_batch(det, long, ["a", "b"])
    assert len(results) == 4000 and sum(r.anomaly for r in results) >= 2


@pytest.mark.parametrize("settings", [
    dict(method="autoencoder"),
    dict(cell="gru", layer_norm=True, zoneout=0.1),
    dict(cell="rnn", num_layers=2, recurrent_dropout=0.1, dropout=0.1),
], ids=["autoencoder", "gru-layernorm-zoneout", "rnn-2layers-recurrent-dropout"])
def test_stream_equals_batch_for_every_method_and_layer_option(settings):
    frame = sine_frame(1600, seed=1)
    frame.loc[1300, "a"] += 3.0
    det = AnomalyDetector(**{**SMALL, "epochs": 2, **settings})
    det.fit(frame.iloc[:500], time="time", columns="a")
    results = assert_stream_equals_batch(det, frame, ["a"])
    if det.config.method == "autoencoder":  # results lag the window, the unfinished one is pending
        assert len(results) == len(frame) - det.config.window + 1


def test_save_load_round_trip(fitted, tmp_path):
    det, frame = fitted
    path = det.save(tmp_path / "det.rnnkit")
    loaded = rnnkit.load(path)
    assert isinstance(loaded, AnomalyDetector) and loaded.config == det.config
    np.testing.assert_array_equal(loaded.mean_, det.mean_)
    np.testing.assert_array_equal(loaded.std_, det.std_)
    assert loaded.threshold_ == det.threshold_
    pd.testing.assert_frame_equal(loaded.detect(frame).points, det.detect(frame).points)


def test_weights_that_do_not_fit_the_settings_are_refused(fitted, tmp_path):
    det, _ = fitted
    bundle = read_bundle(det.save(tmp_path / "det.rnnkit"))
    settings = {**bundle.config["settings"], "horizons": 1}
    bad = dataclasses.replace(bundle, config={**bundle.config, "settings": settings})
    with pytest.raises(BundleError, match=r"tensor 'head.weight': expected F32 shape \(2, 16\), got F32 shape \(8, 16\)"):
        rnnkit.load(save_bundle(tmp_path / "bad.rnnkit", bad))


def test_evaluate_table_has_the_baselines(fitted):
    det, frame = fitted
    frame = frame.copy()
    labels = np.zeros(len(frame), dtype=int)
    for i in (900, 1000, 1100):
        frame.loc[i, "a"] += 4.0
        labels[i] = 1
    frame["label"] = labels
    result = det.evaluate(frame, labels="label", start=frame.time[800])
    assert result.start == 800
    assert list(result.table.index) == ["rnnkit", "rolling_zscore", "isolation_forest"]
    assert list(result.table.columns) == ["precision", "recall", "F1", "PA_F1", "NAB"]
    assert result.table.loc["rnnkit", "recall"] == 1.0 and result.table.loc["rnnkit", "NAB"] > 50
    assert det.metrics_["rnnkit"]["F1"] == result.table.loc["rnnkit", "F1"]
    same = det.evaluate(frame.drop(columns="label"), labels=labels, start=800, baselines=())
    assert list(same.table.index) == ["rnnkit"]


def test_unfitted_use_is_refused():
    det = AnomalyDetector()
    for call in (lambda: det.detect(sine_frame()), det.stream, lambda: det.save("x.rnnkit"),
                 lambda: det.evaluate(sine_frame(), labels=np.zeros(1200))):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            call()


def test_settings_are_checked():
    with pytest.raises(ConfigError, match="did you mean 'window'"):
        AnomalyDetector(windw=10)
    with pytest.raises(ConfigError, match="did you mean 'autoencoder'"):
        AnomalyDetector(method="autoencodr").fit(sine_frame(), time="time", columns="a")
    with pytest.raises(ConfigError, match=r"window: expected >= burn_in \+ horizons \+ 1 = 13"):
        AnomalyDetector(window=5).fit(sine_frame(), time="time", columns="a")
    with pytest.raises(ConfigError, match="did you mean 'min_decrease'"):
        AnomalyConfig.from_dict({"min_decrese": 0.1})
    assert AnomalyConfig(z_min=2.0, z_max=3.0).z_values == (2.0, 2.5, 3.0)
    assert math.isclose(AnomalyConfig(smoothing=4).alpha, 0.4)
    assert repr(AnomalyDetector(window=10)) == "AnomalyDetector(window=10)"
    assert AnomalyDetector(window=10).clone().config.window == 10


def test_public_seams_detect_arrays_and_min_detect_length(fitted):
    det, frame = fitted
    points = det.detect(frame).points
    by_array = det.detect_arrays(frame[["a", "b"]].to_numpy(), frame.time)
    pd.testing.assert_frame_equal(by_array.points, points)
    assert det.min_detect_length() == (max(det.config.burn_in, det.config.horizons) + 1,
                                       "max(burn_in, horizons) + 1")
    assert AnomalyDetector(method="autoencoder", window=20).min_detect_length() == (20, "window")
    with pytest.raises(DataError, match=r"detect: values: expected a \(T, 2\) array"):
        det.detect_arrays(frame[["a"]].to_numpy(), frame.time)
    assert det.settings_["freq"] == "h" and det.settings_["device"] == "cpu"


def test_evaluation_is_a_report(fitted):
    det, frame = fitted
    result = det.evaluate(frame, labels=np.zeros(len(frame)), start=800, baselines=())
    assert isinstance(result, rnnkit.tasks.core.Report)
    assert result.metrics["rnnkit"]["F1"] == result.table.loc["rnnkit", "F1"]
    assert "scored from row 800" in repr(result)


def test_next_step_net_forward_is_the_change_definition():
    from rnnkit.tasks.anomaly.model import NextStepNet

    net = NextStepNet(2, horizons=3, hidden_size=8).double().eval()
    x, prev = torch.randn(4, 9, 2, dtype=torch.float64), torch.randn(4, 2, dtype=torch.float64)
    with torch.no_grad():
        pred, _ = net(x, prev)
        out, _ = net.rnn(torch.diff(x, dim=1, prepend=prev.unsqueeze(1)))
        assert torch.equal(pred, net.predictions(x, out))  # (N, L, K, C)
        assert pred.shape == (4, 9, 3, 2)
        y, _ = net.rnn.step(x[:, 0] - prev)
        torch.testing.assert_close(net.predictions(x[:, 0], y), pred[:, 0])  # (N, K, C)


def test_combined_settings_are_checked():
    with pytest.raises(ConfigError, match=r"min_history: expected <= buffer_size=50, got 60"):
        AnomalyConfig(buffer_size=50, min_history=60).validate()
    with pytest.raises(ConfigError, match=r"z_min, z_max: expected z_min <= z_max"):
        AnomalyConfig(z_min=4.0, z_max=3.0).validate()
    with pytest.raises(ConfigError, match=r"corrupt: expected a number in \[0, 0.5\)"):
        AnomalyConfig(corrupt=0.5).validate()
    AnomalyConfig(method="autoencoder", window=2).validate()  # the chunk rule is the predictor's
