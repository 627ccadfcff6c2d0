"""Optimizers, clipping and learning-rate schedules."""

from __future__ import annotations

import math

import pytest
import torch
from train_helpers import linear_loss, regression_data

from rnnkit.train import TrainConfig, Trainer
from rnnkit.train.optim import build_optimizer, build_scheduler, clip_gradients, warmup_cosine_lr

OPTIMIZER_CLASSES = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
                     "rmsprop": torch.optim.RMSprop, "sgd": torch.optim.SGD}


@pytest.mark.parametrize("name", sorted(OPTIMIZER_CLASSES))
def test_each_optimizer_steps_and_reduces_a_regression_loss(name):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    batch = regression_data()
    before = linear_loss(model, batch).item()
    cfg = TrainConfig(epochs=30, lr=0.05, optimizer=name, momentum=0.5, progress="none")
    trainer = Trainer(model, linear_loss, cfg)
    history = trainer.fit([batch])
    assert type(trainer.optimizer) is OPTIMIZER_CLASSES[name]
    assert history.steps == 30
    assert linear_loss(model, batch).item() < 0.5 * before


def test_momentum_and_weight_decay_reach_the_optimizer():
    params = [torch.nn.Parameter(torch.zeros(2))]
    sgd = build_optimizer(params, TrainConfig(optimizer="sgd", momentum=0.3, weight_decay=0.01))
    assert sgd.param_groups[0]["momentum"] == 0.3 and sgd.param_groups[0]["weight_decay"] == 0.01
    rms = build_optimizer(params, TrainConfig(optimizer="rmsprop", momentum=0.2))
    assert rms.param_groups[0]["momentum"] == 0.2


def _params_with_grads(*grads):
    params = []
    for g in grads:
        p = torch.nn.Parameter(torch.zeros_like(g))
        p.grad = g.clone()
        params.append(p)
    return params


def test_clip_by_norm_bounds_the_total_norm_and_returns_the_norm_before():
    params = _params_with_grads(torch.tensor([3.0, 4.0]), torch.tensor([0.0, 12.0]))  # norm 13
    norm = clip_gradients(params, max_norm=1.0, max_value=None)
    assert norm.item() == pytest.approx(13.0)
    clipped = torch.cat([p.grad for p in params])
    assert torch.linalg.vector_norm(clipped).item() == pytest.approx(1.0, rel=1e-5)
    assert torch.allclose(clipped, torch.tensor([3.0, 4.0, 0.0, 12.0]) / 13, atol=1e-6)


def test_clip_by_value_bounds_every_element():
    params = _params_with_grads(torch.tensor([-5.0, 0.2, 7.0]))
    clip_gradients(params, max_norm=None, max_value=0.5)
    assert params[0].grad.tolist() == [-0.5, pytest.approx(0.2), 0.5]


def test_the_norm_shows_an_inf_that_value_clipping_would_hide():
    params = _params_with_grads(torch.tensor([float("inf"), 1.0]))
    norm = clip_gradients(params, max_norm=None, max_value=1.0)
    assert math.isinf(norm.item())


@pytest.mark.parametrize("clip", [{}, {"grad_clip_value": 0.01}, {"grad_clip_norm": 0.01}])
def test_the_trainer_clips_before_the_step(clip):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    before = torch.cat([p.detach().flatten().clone() for p in model.parameters()])
    cfg = TrainConfig(epochs=1, lr=1.0, optimizer="sgd", momentum=0.0, progress="none", **clip)
    Trainer(model, linear_loss, cfg).fit([regression_data()])
    delta = torch.cat([p.detach().flatten() for p in model.parameters()]) - before  # = -lr * grad
    if "grad_clip_value" in clip:
        assert delta.abs().max().item() <= 0.01 + 1e-7
    elif "grad_clip_norm" in clip:
        assert torch.linalg.vector_norm(delta).item() <= 0.01 + 1e-7
    else:  # without clipping the same step is far larger, so the bounds above mean something
        assert delta.abs().max().item() > 0.5


def test_warmup_then_cosine_values():
    lr = lambda step: warmup_cosine_lr(step, lr=1.0, min_lr=0.1, warmup_steps=4, total_steps=14)  # noqa: E731
    assert [lr(s) for s in range(4)] == pytest.approx([0.2, 0.4, 0.6, 0.8])  # (s+1)/(warmup+1)
    assert lr(4) == pytest.approx(1.0)  # the peak, where warm-up ends
    assert lr(9) == pytest.approx(0.55)  # halfway: min + (lr - min) / 2
    assert lr(14) == pytest.approx(0.1) and lr(100) == pytest.approx(0.1)
    assert warmup_cosine_lr(50, lr=1.0, min_lr=0.0, warmup_steps=2, total_steps=None) == 1.0


def test_the_cosine_scheduler_follows_the_formula_step_by_step():
    cfg = TrainConfig(lr=0.5, schedule="cosine", warmup_steps=3, min_lr=0.05)
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=cfg.lr)
    sched = build_scheduler(opt, cfg, total_steps=10)
    seen = []
    for _ in range(12):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    expected = [warmup_cosine_lr(s, lr=0.5, min_lr=0.05, warmup_steps=3, total_steps=10) for s in range(12)]
    assert seen == pytest.approx(expected)
    assert seen[0] == pytest.approx(0.125) and seen[3] == pytest.approx(0.5) and seen[-1] == pytest.approx(0.05)


def test_the_trainer_decays_the_cosine_over_all_its_steps():
    cfg = TrainConfig(epochs=3, lr=0.1, min_lr=0.01, schedule="cosine", warmup_steps=2,
                      optimizer="sgd", progress="none")
    x, y = regression_data()
    trainer = Trainer(torch.nn.Linear(3, 1), linear_loss, cfg)
    history = trainer.fit([(x[:16], y[:16]), (x[16:], y[16:])])
    assert history.steps == 6
    assert trainer.scheduler.last_epoch == 6
    assert history["lr"][-1] == pytest.approx(0.01)  # at the end of the decay
    assert history["lr"][0] == pytest.approx(warmup_cosine_lr(2, lr=0.1, min_lr=0.01, warmup_steps=2,
                                                              total_steps=6))


def test_plateau_cuts_the_lr_when_the_monitor_stops_improving():
    cfg = TrainConfig(epochs=4, lr=0.1, schedule="plateau", plateau_patience=0, plateau_factor=0.5,
                      optimizer="sgd", progress="none")
    flat = lambda model, batches: {"val_loss": 1.0}  # noqa: E731 - never improves after epoch 1
    trainer = Trainer(torch.nn.Linear(3, 1), linear_loss, cfg, evaluate_fn=flat)
    history = trainer.fit([regression_data()])
    assert history["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.025])  # the lr each epoch trained with
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.0125)
