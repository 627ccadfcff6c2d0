"""A NaN/inf loss or gradient: raise with where it happened, or skip the step."""

from __future__ import annotations

import pytest
import torch
from train_helpers import linear_loss, regression_data

from rnnkit.errors import NonFiniteError
from rnnkit.train import TrainConfig, Trainer


def _batches():
    x, y = regression_data(32)
    return [(x[i:i + 8], y[i:i + 8]) for i in range(0, 32, 8)]  # 4 batches per epoch


def nan_at(call: int):
    """linear_loss, except that the `call`-th call returns NaN."""
    calls = {"n": 0}

    def loss_fn(model, batch):
        calls["n"] += 1
        loss = linear_loss(model, batch)
        return loss * float("nan") if calls["n"] == call else loss
    return loss_fn


def test_a_nan_loss_raises_naming_where_and_the_checkpoint_on_disk_is_the_last_good_one(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    cfg = TrainConfig(epochs=3, lr=0.05, checkpoint_every_steps=2, progress="none")
    with pytest.raises(NonFiniteError) as err:
        Trainer(model, nan_at(7), cfg, out_dir=tmp_path).fit(_batches())
    path = tmp_path / "checkpoint.pt"
    assert str(err.value) == (
        "training: non-finite loss at epoch 2, optimizer step 7, batch index 2: expected a finite "
        f"value, got nan (the last good checkpoint is {path}; lower lr, set grad_clip_norm, check the "
        "data for NaN, or set on_nonfinite='skip')")
    ckpt = torch.load(path, weights_only=True)
    assert (ckpt["step"], ckpt["epoch"], ckpt["batch"]) == (6, 1, 2)  # after the 6th good step
    assert all(torch.isfinite(t).all() for t in ckpt["model"].values())
    assert torch.equal(ckpt["model"]["weight"], model.weight.detach())  # step 7 was never taken


def test_an_infinite_gradient_raises_too(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    calls = {"n": 0}

    def poison(grad):
        calls["n"] += 1
        return grad * float("inf") if calls["n"] == 3 else grad
    model.weight.register_hook(poison)
    cfg = TrainConfig(epochs=1, progress="none", grad_clip_value=1.0)
    with pytest.raises(NonFiniteError, match=r"non-finite gradient norm at epoch 1, optimizer step 3, "
                                             r"batch index 2: expected a finite value, got inf "
                                             r"\(no checkpoint was written before it;"):
        Trainer(model, linear_loss, cfg).fit(_batches())


def test_skip_drops_that_step_warns_once_per_epoch_and_goes_on():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    cfg = TrainConfig(epochs=2, lr=0.05, on_nonfinite="skip", progress="none")
    with pytest.warns(UserWarning, match=r"epoch 1: skipped 1 optimizer step") as record:
        history = Trainer(model, nan_at(2), cfg).fit(_batches())
    assert len([w for w in record if "skipped" in str(w.message)]) == 1  # epoch 2 had none
    assert history.steps == 2 * 4 - 1
    assert history["skipped"] == [1, 0]
    assert all(torch.isfinite(p).all() for p in model.parameters())
