"""Each task's network exported from a tiny fitted estimator, with parity in onnxruntime,
the metadata a user needs to feed the graph, and the command line."""

import json

import numpy as np
import onnx
import pandas as pd
import pytest
import typer

import rnnkit
from rnnkit.errors import ConfigError
from rnnkit.export import to_onnx

ATOL = 1e-4


pytestmark = pytest.mark.usefixtures("one_thread")


def frame(n=120, channels=("y",)):
    t = np.arange(n)
    df = pd.DataFrame({"date": pd.date_range("2021-01-01", periods=n, freq="D")})
    for k, name in enumerate(channels):
        df[name] = np.sin(2 * np.pi * t / (7 + 5 * k)) + 0.01 * t
    return df


def series(n=24):
    rng = np.random.default_rng(0)
    X = [rng.normal(size=(int(rng.integers(5, 15)), 2)) for _ in range(n)]
    return X, np.array(["a", "b"] * (n // 2))


@pytest.fixture(scope="module")
def forecaster():
    f = rnnkit.Forecaster(cell="gru", lookback=10, horizon=3, hidden_size=8, epochs=1, seed=0,
                          layer_norm=True, zoneout=0.1, normalize="series", ensemble=1)
    return f.fit(frame(), time="date", target="y")


def test_default_forecaster_exports_its_sequence_graph_and_refuses_a_step_graph(tmp_path):
    f = rnnkit.Forecaster(lookback=14, horizon=3, hidden_size=8, epochs=1, seed=0, ensemble=3)
    f.fit(frame(), time="date", target="y")  # window normalisation, a seasonal base, 3 members
    assert f.settings_["base_lag"] == 7 and len(f.model_.members) == 3
    report = to_onnx(f, tmp_path / "f.onnx")
    assert report.max_abs_diff <= ATOL
    with pytest.raises(ConfigError, match="kind='step'.*members read windows of different lengths"):
        to_onnx(f, tmp_path / "f-step.onnx", kind="step")
    single = rnnkit.Forecaster(lookback=14, horizon=3, hidden_size=8, epochs=1, ensemble=1)
    single.fit(frame(), time="date", target="y")
    with pytest.raises(ConfigError, match="normalize='series' for a step graph"):
        to_onnx(single, tmp_path / "s-step.onnx", kind="step")


def meta(path):
    return {p.key: p.value for p in onnx.load(str(path)).metadata_props}


def test_forecaster_sequence_and_step_with_metadata(forecaster, tmp_path):
    report = to_onnx(forecaster, tmp_path / "f.onnx")
    assert report.max_abs_diff <= ATOL and report.task == "forecast"
    assert list(report.inputs) == ["past", "future", "static"]
    m = meta(report.path)
    assert "scalers" in json.loads(m["rnnkit.preprocessing"])
    assert json.loads(m["rnnkit.config"])["columns"]["targets"] == ["y"]
    assert "scaled targets" in json.loads(m["rnnkit.inputs"])["past"]
    step = to_onnx(forecaster, tmp_path / "f-step.onnx", kind="step")
    assert step.max_abs_diff <= ATOL and json.loads(meta(step.path)["rnnkit.state"]) == {"h": "h_next"}


@pytest.mark.parametrize("cell,bidirectional", [("lstm", True), ("gru", False)])
def test_sequence_classifier_padded_batches(cell, bidirectional, tmp_path):
    X, y = series()
    clf = rnnkit.SequenceClassifier(cell=cell, hidden_size=8, epochs=1, batch_size=8,
                                    bidirectional=bidirectional, recurrent_dropout=0.1, seed=0).fit(X, y)
    report = to_onnx(clf, tmp_path / "c.onnx")  # checked on random lengths 1..L
    assert report.max_abs_diff <= ATOL and list(report.inputs) == ["x", "lengths"]
    assert json.loads(meta(report.path)["rnnkit.preprocessing"])["classes"] == ["a", "b"]
    if bidirectional:
        with pytest.raises(ConfigError, match="bidirectional"):
            to_onnx(clf, tmp_path / "s.onnx", kind="step")
    else:
        assert to_onnx(clf, tmp_path / "s.onnx", kind="step").max_abs_diff <= ATOL


@pytest.mark.parametrize("method", ["predict", "autoencoder"])
def test_anomaly_networks(method, tmp_path):
    det = rnnkit.AnomalyDetector(method=method, cell="lstm", hidden_size=8, epochs=1, window=24,
                                 batch_size=16, layer_norm=True, seed=0)
    det.fit(frame(300, ("a", "b")), time="date", columns=["a", "b"])
    report = to_onnx(det, tmp_path / "a.onnx")
    assert report.max_abs_diff <= ATOL and report.task == "anomaly"
    assert "mean" in json.loads(meta(report.path)["rnnkit.preprocessing"])
    if method == "predict":
        assert to_onnx(det, tmp_path / "s.onnx", kind="step").max_abs_diff <= ATOL
    else:
        with pytest.raises(ConfigError, match="whole window"):
            to_onnx(det, tmp_path / "s.onnx", kind="step")


def cli(argv):
    from rnnkit.cli import export as export_cmd, main as main_mod

    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.callback()(lambda: None)
    export_cmd.register(app)
    original, main_mod.app = main_mod.app, app
    try:
        return main_mod.main(argv)
    finally:
        main_mod.app = original


def test_cli_writes_both_graphs_and_prints_the_report(forecaster, tmp_path, capsys):
    model = forecaster.save(tmp_path / "model.rnnkit")
    assert cli(["export", str(model), "--format", "onnx", "--kind", "both"]) == 0
    out = capsys.readouterr().out
    assert (tmp_path / "model.onnx").exists() and (tmp_path / "model-step.onnx").exists()
    assert "input  past (batch, length, " in out and "parity: max |onnxruntime - torch|" in out


def test_cli_corrupt_model_file_is_one_clear_line(tmp_path, capsys):
    bad = tmp_path / "bad.rnnkit"
    bad.write_bytes(b"")
    assert cli(["export", str(bad), "--format", "onnx"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "bad.rnnkit" in err and len(err.splitlines()) == 1
    assert cli(["export", str(bad), "--format", "tflite"]) == 2
    assert "unknown export format 'tflite'" in capsys.readouterr().err


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_text_classifier_padded_batches(cell, tmp_path):
    texts = ["good tasty fresh", "really good", "bad stale", "awful and bad old", "good", "stale"] * 3
    labels = ["great", "great", "other", "other", "great", "other"] * 3
    clf = rnnkit.TextClassifier(cell=cell, hidden_size=8, min_freq=1, epochs=1, progress="none",
                                seed=0).fit(texts, labels)
    report = to_onnx(clf, tmp_path / "t.onnx")  # random ids and lengths, batch and length changed
    assert report.max_abs_diff <= ATOL and list(report.inputs) == ["ids", "lengths"]
    pre = json.loads(meta(report.path)["rnnkit.preprocessing"])
    assert "vocabulary" in pre
    with pytest.raises(ConfigError, match="attention pooling"):
        to_onnx(clf, tmp_path / "s.onnx", kind="step")


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_language_model_sequence_and_step(cell, tmp_path):
    texts = ["the cat sat on the mat", "a dog ran in the fog", "the cat and the dog"] * 6
    lm = rnnkit.LanguageModel(cell=cell, hidden_size=16, embedding_dim=8, epochs=1, bptt=8,
                              batch_size=4, min_freq=1, seed=0).fit(texts)
    seq = to_onnx(lm, tmp_path / "lm.onnx")  # ids and state in, logits and state out
    assert seq.max_abs_diff <= ATOL and list(seq.inputs)[0] == "ids"
    step = to_onnx(lm, tmp_path / "lm-step.onnx", kind="step")  # one token per call, state carried
    assert step.max_abs_diff <= ATOL and list(step.inputs)[0] == "ids_t"
