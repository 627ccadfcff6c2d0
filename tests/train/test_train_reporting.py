"""What a run leaves behind and prints: metrics.csv, the curve, epoch lines, TensorBoard."""

from __future__ import annotations

import csv
import re

import pytest
import torch
from train_helpers import linear_loss, regression_data

from rnnkit.train import TrainConfig, Trainer


def _fit(tmp_path, **kw):
    torch.manual_seed(0)
    cfg = TrainConfig(**{"epochs": 3, "lr": 0.05, **kw})
    batch = regression_data()
    return Trainer(torch.nn.Linear(3, 1), linear_loss, cfg, out_dir=tmp_path).fit([batch], [batch])


def test_metrics_csv_has_one_row_per_epoch_and_the_curve_is_a_png(tmp_path):
    history = _fit(tmp_path, progress="none")
    with open(tmp_path / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert list(rows[0]) == ["epoch", "train_loss", "val_loss", "lr", "seconds", "steps", "skipped"]
    assert [float(r["val_loss"]) for r in rows] == pytest.approx(history["val_loss"])
    png = (tmp_path / "training_curve.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000


def test_plain_progress_prints_one_line_per_epoch(tmp_path, capsys):
    _fit(tmp_path, progress="plain")
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3
    pattern = r"epoch 2/3  train_loss \d+\.\d{4}  val_loss \d+\.\d{4}  lr 5\.000e-02  \d+\.\ds"
    assert re.fullmatch(pattern, lines[1]), lines[1]


def test_the_progress_bar_runs_and_none_prints_nothing(tmp_path, capsys):
    _fit(tmp_path / "bar", progress="bar")
    assert "epoch 3/3" in capsys.readouterr().err
    _fit(tmp_path / "none", progress="none")
    assert capsys.readouterr().err == ""


def test_tensorboard_writes_event_files(tmp_path):
    pytest.importorskip("tensorboard")
    _fit(tmp_path, progress="none", tensorboard=True)
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))


def test_without_out_dir_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    Trainer(torch.nn.Linear(3, 1), linear_loss, TrainConfig(epochs=1, progress="none")).fit(
        [regression_data()])
    assert list(tmp_path.iterdir()) == []
