"""Progress by default: ``progress="auto"`` is a bar on a terminal and plain lines otherwise,
with a line inside an epoch that runs long (batch, loss, rate, ETA)."""

from __future__ import annotations

import re

import torch
from train_helpers import linear_loss, regression_data

from rnnkit.tasks.core import TrainSettings
from rnnkit.train import TrainConfig, Trainer
from rnnkit.train.reporting import Reporter, format_eta


def _fit(tmp_path, **kw):
    torch.manual_seed(0)
    batch = regression_data()
    cfg = TrainConfig(**{"epochs": 2, "lr": 0.05, **kw})
    return Trainer(torch.nn.Linear(3, 1), linear_loss, cfg, out_dir=tmp_path).fit([batch] * 3, [batch])


def test_every_estimator_shows_progress_by_default():
    assert TrainSettings().progress == "auto"
    assert TrainSettings().trainer_config(validation=False).progress == "auto"


def test_auto_off_a_terminal_prints_plain_lines(tmp_path, capsys):
    _fit(tmp_path)  # capsys: stderr is not a terminal
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line.split("  ")[0] for line in lines] == ["epoch 1/2", "epoch 2/2"]
    assert "train_loss" in lines[0] and "val_loss" in lines[0]


def test_a_long_epoch_prints_batch_lines_with_rate_and_eta(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(Reporter, "plain_every", 0.0)  # every batch counts as "long"
    _fit(tmp_path, progress="plain")
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 * (3 + 1)  # three batch lines and the epoch line, twice
    assert re.fullmatch(r"epoch 1/2  batch 2/3  loss \d+\.\d{4}  \d+\.\d it/s  ETA \d+s", lines[1]), lines[1]
    assert re.fullmatch(r"epoch 2/2  batch 1/3  loss \d+\.\d{4}  val_loss \d+\.\d{4}  .*", lines[4]), lines[4]


def test_eta_reads_as_time():
    assert [format_eta(s) for s in (4.4, 65, 3725)] == ["4s", "1m05s", "1h02m"]
