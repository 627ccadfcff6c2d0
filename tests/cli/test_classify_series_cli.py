"""The series-classification commands behind ``rnnkit train | evaluate | predict`` (called
directly until cli/models.py dispatches task "classify-series" to them)."""

import json

import pytest

import rnnkit
from rnnkit.cli import classify_series
from rnnkit.config_file import RunConfig
from rnnkit.data import datasets
from rnnkit.tasks.classify_series import SequenceClassifier

pytest.importorskip("sktime")


def test_train_then_evaluate_and_predict_a_csv(tmp_path, capsys):
    cfg = RunConfig("classify-series", {"dataset": "italy-power-demand"},
                    {"hidden_size": 8}, {"epochs": 3, "val_fraction": 0.0})
    classify_series.train(cfg, tmp_path, resume=False)
    out = capsys.readouterr().out
    assert "Test split (1029 series)" in out and "1nn_dtw" in out
    model = tmp_path / "model.rnnkit"
    frame = datasets.load("italy-power-demand")
    csv = tmp_path / "test.csv"
    frame[frame["split"] == "test"].head(24 * 50).to_csv(csv, index=False)  # 50 series
    est = rnnkit.load(model)
    assert isinstance(est, SequenceClassifier)
    classify_series.evaluate(est, model, csv, json_out=True)
    table = json.loads(capsys.readouterr().out)
    assert table["rnnkit"]["accuracy"] > 0.5  # labels "1"/"2" read back from CSV as numbers
    classify_series.predict(est, csv)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 50
    first = json.loads(lines[0])
    assert first["label"] in ("1", "2") and abs(sum(first["proba"].values()) - 1) < 1e-6
