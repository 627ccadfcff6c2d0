"""Early stopping on the monitored metric, and the best weights put back at the end."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from rnnkit.train import TrainConfig, Trainer
from rnnkit.train.early_stopping import EarlyStopping


def _overfitting_case():
    """Train pulls the weight w from 0 towards 2; validation is best at w = 0.5, then worsens."""
    model = torch.nn.Linear(1, 1, bias=False)
    torch.nn.init.zeros_(model.weight)
    x = torch.linspace(-1, 1, 16).unsqueeze(1)
    train, val = (x, 2.0 * x), (x, 0.5 * x)
    weights = []

    def evaluate(model, batches):
        weights.append(model.weight.item())
        vx, vy = batches[0]
        return {"val_loss": F.mse_loss(model(vx), vy).item(), "w": model.weight.item()}

    return model, train, val, weights, evaluate


def test_stops_after_patience_epochs_without_improvement_and_restores_the_best_weights():
    model, train, val, weights, evaluate = _overfitting_case()
    cfg = TrainConfig(epochs=100, lr=0.1, optimizer="sgd", momentum=0.0, patience=2, progress="none")
    history = Trainer(model, lambda m, b: F.mse_loss(m(b[0]), b[1]), cfg, evaluate_fn=evaluate).fit(
        [train], [val])
    val_losses = history["val_loss"]
    best = min(range(len(val_losses)), key=val_losses.__getitem__)
    assert history.stopped_early and len(history.rows) < 100
    assert history.best_epoch == best + 1 and history.best_value == val_losses[best]
    assert len(history.rows) == history.best_epoch + 3  # patience=2: the third bad epoch stops it
    assert val_losses[-1] > val_losses[best]  # validation really got worse
    assert model.weight.item() == weights[best] != weights[-1]  # the best weights, not the last


def test_without_patience_it_trains_every_epoch_and_keeps_the_last_weights():
    model, train, val, weights, evaluate = _overfitting_case()
    cfg = TrainConfig(epochs=12, lr=0.1, optimizer="sgd", momentum=0.0, progress="none")
    history = Trainer(model, lambda m, b: F.mse_loss(m(b[0]), b[1]), cfg, evaluate_fn=evaluate).fit(
        [train], [val])
    assert len(history.rows) == 12 and not history.stopped_early
    assert history.best_epoch < 12  # still tracked
    assert model.weight.item() == weights[-1]


def test_mode_max_treats_larger_as_better_and_nan_as_no_improvement():
    stopper = EarlyStopping(mode="max", patience=1)
    model = torch.nn.Linear(1, 1)
    assert stopper.update(0.5, 1, model) and stopper.update(0.7, 2, model)
    assert not stopper.update(0.6, 3, model) and not stopper.should_stop
    assert not stopper.update(float("nan"), 4, model) and stopper.should_stop
    assert (stopper.best_epoch, stopper.best_value) == (2, 0.7)


def test_monitor_train_loss_needs_no_validation_data():
    torch.manual_seed(0)
    x = torch.randn(8, 2)
    cfg = TrainConfig(epochs=3, monitor="train_loss", patience=5, progress="none")
    history = Trainer(torch.nn.Linear(2, 1), lambda m, b: m(b).pow(2).mean(), cfg).fit([x])
    assert history.best_value == pytest.approx(min(history["train_loss"]))


def test_max_steps_stops_mid_epoch():
    x = torch.randn(16, 2, generator=torch.Generator().manual_seed(0))
    batches = [x[i:i + 4] for i in range(0, 16, 4)]  # 4 batches per epoch
    cfg = TrainConfig(epochs=10, max_steps=6, schedule="cosine", progress="none")
    trainer = Trainer(torch.nn.Linear(2, 1), lambda m, b: m(b).pow(2).mean(), cfg)
    history = trainer.fit(batches)
    assert history.steps == 6 and len(history.rows) == 2 and not history.stopped_early
    assert trainer.optimizer.param_groups[0]["lr"] == 0.0  # the cosine decays over max_steps
