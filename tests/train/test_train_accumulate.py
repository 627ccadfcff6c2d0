"""Gradient accumulation: k half batches make the same step as one full batch."""

from __future__ import annotations

import torch
from train_helpers import linear_loss, regression_data

from rnnkit.train import TrainConfig, Trainer


def _train(batches, accumulate, optimizer="sgd"):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    cfg = TrainConfig(epochs=1, lr=0.1, optimizer=optimizer, momentum=0.0, accumulate=accumulate,
                      progress="none")
    history = Trainer(model, linear_loss, cfg).fit(batches)
    return model, history


def test_two_half_batches_accumulated_equal_one_full_batch():
    x, y = regression_data(32)
    full, h_full = _train([(x, y)], accumulate=1)
    halves, h_halves = _train([(x[:16], y[:16]), (x[16:], y[16:])], accumulate=2)
    stepped, _ = _train([(x[:16], y[:16]), (x[16:], y[16:])], accumulate=1)
    assert h_full.steps == h_halves.steps == 1
    for a, b, c in zip(full.parameters(), halves.parameters(), stepped.parameters()):
        assert torch.allclose(a, b, atol=1e-6)
        assert not torch.allclose(a, c, atol=1e-4)  # stepping on each half is different


def test_adam_sees_the_same_gradient_too():
    x, y = regression_data(32)
    full, _ = _train([(x, y)], accumulate=1, optimizer="adam")
    halves, _ = _train([(x[:16], y[:16]), (x[16:], y[16:])], accumulate=2, optimizer="adam")
    for a, b in zip(full.parameters(), halves.parameters()):
        assert torch.allclose(a, b, atol=1e-6)


def test_the_epoch_end_steps_with_what_is_left():
    x, y = regression_data(30)
    batches = [(x[i:i + 6], y[i:i + 6]) for i in range(0, 30, 6)]  # 5 batches
    _, history = _train(batches, accumulate=2)
    assert history.steps == 3  # after batches 2 and 4, and at the end of the epoch
