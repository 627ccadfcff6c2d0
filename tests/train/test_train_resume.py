"""Checkpoints, exact resume after a kill, and reproducible seeding."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from train_helpers import lstm_chunk_loss, make_lstm, sequence_data

from rnnkit.train import TrainConfig, Trainer
from rnnkit.train.checkpoint import save_checkpoint
from rnnkit.train.rng import capture_rng, restore_rng


def _loader(shuffle=True):
    x, y = sequence_data(24, length=8)
    dataset = torch.utils.data.TensorDataset(x, y)
    return torch.utils.data.DataLoader(dataset, batch_size=4, shuffle=shuffle)  # 6 batches


class NoisyLoss:
    """A loss that draws from torch (dropout), numpy and random, and can simulate a kill."""

    def __init__(self, kill_at: int | None = None):
        self.calls, self.kill_at = 0, kill_at

    def __call__(self, model, batch):
        self.calls += 1
        if self.calls == self.kill_at:
            raise KeyboardInterrupt  # what a kill looks like from inside the loop
        x, y = batch
        noise = torch.from_numpy(np.random.standard_normal(x.shape)).float()
        out, _ = model(x + 0.05 * noise + 0.05 * random.random())
        return F.mse_loss(out, y)


def _weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def _same(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


CFG = dict(epochs=3, lr=0.01, optimizer="adam", schedule="cosine", warmup_steps=2,
           grad_clip_norm=1.0, checkpoint_every_steps=4, progress="none")


def test_a_run_killed_mid_epoch_and_resumed_ends_bitwise_equal(tmp_path):
    cfg = TrainConfig(**CFG)
    model_a = make_lstm(dropout=0.3)
    history_a = Trainer(model_a, NoisyLoss(), cfg, out_dir=tmp_path / "a").fit(_loader(), _loader(False))

    # The killed run: 6 batches and 6 validation calls per epoch; call 18 is epoch 2, batch
    # index 5, one batch after the step checkpoint at step 10 (the epoch-end one was at 6).
    with pytest.raises(KeyboardInterrupt):
        Trainer(make_lstm(dropout=0.3), NoisyLoss(kill_at=18), cfg, out_dir=tmp_path / "b").fit(
            _loader(), _loader(False))
    ckpt = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)
    assert (ckpt["epoch"], ckpt["batch"], ckpt["step"]) == (1, 4, 10)

    np.random.seed(123), random.seed(123), torch.manual_seed(123)  # a new process's RNGs
    model_b = make_lstm(seed=99, dropout=0.3)  # other initial weights: the checkpoint replaces them
    history_b = Trainer(model_b, NoisyLoss(), cfg, out_dir=tmp_path / "b").fit(
        _loader(), _loader(False), resume=True)

    assert _same(_weights(model_a), _weights(model_b))
    assert history_b.steps == history_a.steps == 18
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert strip(history_b.rows) == strip(history_a.rows)


def test_without_restoring_the_rng_the_resumed_run_would_differ(tmp_path):
    # The check above can fail: resuming from the same checkpoint with the epoch's order
    # replayed from another RNG state gives other weights.
    cfg = TrainConfig(**CFG)
    model_a = make_lstm(dropout=0.3)
    Trainer(model_a, NoisyLoss(), cfg, out_dir=tmp_path / "a").fit(_loader(), _loader(False))
    with pytest.raises(KeyboardInterrupt):
        Trainer(make_lstm(dropout=0.3), NoisyLoss(kill_at=18), cfg, out_dir=tmp_path / "b").fit(
            _loader(), _loader(False))
    path = tmp_path / "b" / "checkpoint.pt"
    ckpt = torch.load(path, weights_only=True)
    torch.manual_seed(5)
    ckpt["rng_epoch_start"] = capture_rng()  # a wrong epoch-start state: another shuffle order
    save_checkpoint(ckpt, path)
    model_b = make_lstm(dropout=0.3)
    Trainer(model_b, NoisyLoss(), cfg, out_dir=tmp_path / "b").fit(_loader(), _loader(False), resume=True)
    assert not _same(_weights(model_a), _weights(model_b))


def test_resume_with_tbptt_carry_state_and_accumulation_is_exact(tmp_path):
    x, y = sequence_data(16, length=12)
    batches = [(x[i:i + 4], y[i:i + 4]) for i in range(0, 16, 4)]  # 4 batches x 3 chunks
    cfg = TrainConfig(epochs=2, lr=0.01, tbptt_steps=4, carry_state=True, accumulate=2,
                      checkpoint_every_steps=2, progress="none")
    calls = {"n": 0}

    def killing_loss(model, chunk, state):
        calls["n"] += 1
        if calls["n"] == 20:  # epoch 2, batch index 2
            raise KeyboardInterrupt
        return lstm_chunk_loss(model, chunk, state)

    model_a = make_lstm(dropout=0.2)
    Trainer(model_a, lstm_chunk_loss, cfg, out_dir=tmp_path / "a").fit(batches)
    with pytest.raises(KeyboardInterrupt):
        Trainer(make_lstm(dropout=0.2), killing_loss, cfg, out_dir=tmp_path / "b").fit(batches)
    ckpt = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)
    assert ckpt["batch"] == 2 and ckpt["carried_state"][0] is not None  # mid-epoch, state saved
    model_b = make_lstm(seed=7, dropout=0.2)
    Trainer(model_b, lstm_chunk_loss, cfg, out_dir=tmp_path / "b").fit(batches, resume=True)
    assert _same(_weights(model_a), _weights(model_b))


def test_resuming_a_finished_run_trains_no_further(tmp_path):
    cfg = TrainConfig(epochs=2, lr=0.01, progress="none")
    model = make_lstm()
    Trainer(model, NoisyLoss(), cfg, out_dir=tmp_path).fit(_loader())
    done = _weights(model)
    history = Trainer(model, NoisyLoss(), cfg, out_dir=tmp_path).fit(_loader(), resume=True)
    assert _same(done, _weights(model)) and len(history.rows) == 2


def test_resume_without_a_checkpoint_warns_and_starts_fresh(tmp_path):
    cfg = TrainConfig(epochs=1, progress="none")
    with pytest.warns(UserWarning, match=r"fit\(resume=True\): no checkpoint at .*; starting a fresh run"):
        history = Trainer(make_lstm(), NoisyLoss(), cfg, out_dir=tmp_path).fit(_loader(), resume=True)
    assert history.steps == 6


def test_the_checkpoint_holds_everything_and_loads_weights_only(tmp_path):
    cfg = TrainConfig(epochs=2, lr=0.01, schedule="plateau", patience=3, progress="none")
    model = make_lstm()
    Trainer(model, NoisyLoss(), cfg, out_dir=tmp_path).fit(_loader(), _loader(False))
    ckpt = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert {"model", "optimizer", "scheduler", "scaler", "early_stopping", "history", "epoch", "batch",
            "step", "rng", "rng_epoch_start", "config"} <= ckpt.keys()
    assert set(ckpt["rng"]) == {"torch", "cuda", "numpy", "python"}
    assert ckpt["early_stopping"]["best_weights"].keys() == model.state_dict().keys()
    assert (ckpt["epoch"], ckpt["batch"], ckpt["step"]) == (2, 0, 12)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp files left


def test_rng_states_round_trip():
    state = capture_rng()
    first = (torch.rand(3), np.random.rand(3), random.random())
    restore_rng(state)
    again = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(first[0], again[0]) and np.array_equal(first[1], again[1]) and first[2] == again[2]


def test_two_fresh_runs_with_one_seed_are_identical_and_another_seed_differs():
    def run(seed):
        model = make_lstm(dropout=0.3)
        Trainer(model, NoisyLoss(), TrainConfig(epochs=2, lr=0.01, seed=seed, progress="none")).fit(_loader())
        return _weights(model)
    first, second, other = run(0), run(0), run(1)
    assert _same(first, second)
    assert not _same(first, other)
