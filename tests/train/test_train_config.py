"""TrainConfig validation and the Trainer's argument checks: the messages are the spec."""

from __future__ import annotations

import pytest
import torch
from train_helpers import linear_loss, regression_data

from rnnkit.errors import ConfigError, ShapeError
from rnnkit.train import TrainConfig, Trainer


def test_defaults_are_valid_and_round_trip_through_a_dict():
    cfg = TrainConfig()
    assert (cfg.epochs, cfg.lr, cfg.optimizer, cfg.schedule, cfg.device) == (10, 1e-3, "adam", "none", "auto")
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize("kwargs, message", [
    ({"lr": 0}, "TrainConfig.lr: expected a number > 0, got 0"),
    ({"lr": float("nan")}, "TrainConfig.lr: expected a number > 0, got nan"),
    ({"epochs": 0}, "TrainConfig.epochs: expected an integer >= 1, got 0"),
    ({"epochs": True}, "TrainConfig.epochs: expected an integer >= 1, got True"),
    ({"momentum": 1.0}, "TrainConfig.momentum: expected a number >= 0 and < 1, got 1.0"),
    ({"grad_clip_norm": -1.0}, "TrainConfig.grad_clip_norm: expected a number > 0 or None, got -1.0"),
    ({"tbptt_steps": 0}, "TrainConfig.tbptt_steps: expected an integer >= 1 or None, got 0"),
    ({"plateau_factor": 1.5}, "TrainConfig.plateau_factor: expected a number > 0 and < 1, got 1.5"),
    ({"amp": "yes"}, "TrainConfig.amp: expected True or False, got 'yes'"),
    ({"device": "gpu0"}, "TrainConfig.device: expected 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got 'gpu0'"),
    ({"optimizer": "adm"}, "TrainConfig.optimizer: unknown optimizer 'adm'; did you mean 'adam'?"),
    ({"schedule": "cosin"}, "TrainConfig.schedule: unknown schedule 'cosin'; did you mean 'cosine'?"),
    ({"mode": "minimum"}, "TrainConfig.mode: unknown mode 'minimum'; did you mean 'min'?"),
    ({"carry_state": True}, "TrainConfig.carry_state: expected False when tbptt_steps is None, got True "
                            "(set tbptt_steps so that loss_fn takes and returns the state)"),
    ({"time_dim": 0}, "TrainConfig.time_dim: expected an axis other than batch_dim=0, got 0"),
    ({"lr": 0.01, "min_lr": 0.1}, "TrainConfig.min_lr: expected a number <= lr=0.01, got 0.1"),
    ({"schedule": "plateau", "warmup_steps": 5}, "TrainConfig.warmup_steps: expected 0 with "
                                                 "schedule='plateau', got 5"),
])
def test_invalid_values_name_the_field_the_range_and_the_value(kwargs, message):
    with pytest.raises(ConfigError) as err:
        TrainConfig(**kwargs)
    assert str(err.value).startswith(message)


def test_from_dict_rejects_an_unknown_key_with_the_nearest_valid_one():
    with pytest.raises(ConfigError, match=r"^unknown train key 'epoch'; did you mean 'epochs'\?$"):
        TrainConfig.from_dict({"epoch": 3})
    with pytest.raises(ConfigError, match="unknown train key 'grad_clip'; did you mean 'grad_clip_norm'"):
        TrainConfig.from_dict({"lr": 0.1, "grad_clip": 1.0})
    assert TrainConfig.from_dict({"epochs": 3, "lr": 0.1}).epochs == 3


def test_checkpointing_and_resume_need_an_out_dir():
    model = torch.nn.Linear(3, 1)
    with pytest.raises(ConfigError, match=r"checkpoint_every_steps: expected a Trainer with out_dir"):
        Trainer(model, linear_loss, TrainConfig(checkpoint_every_steps=5))
    trainer = Trainer(model, linear_loss, TrainConfig(epochs=1, progress="none"))
    with pytest.raises(ConfigError, match=r"fit\(resume=True\): expected a Trainer with out_dir"):
        trainer.fit([regression_data()], resume=True)


def test_trainer_rejects_what_is_not_a_model_or_a_config():
    with pytest.raises(ConfigError, match="Trainer: model: expected a torch.nn.Module, got function"):
        Trainer(linear_loss, linear_loss)
    with pytest.raises(ConfigError, match="Trainer: cfg: expected a TrainConfig, got dict"):
        Trainer(torch.nn.Linear(3, 1), linear_loss, {"epochs": 1})


def test_monitor_must_be_among_the_metrics_and_names_those_available():
    cfg = TrainConfig(epochs=1, progress="none", monitor="val_acc")
    trainer = Trainer(torch.nn.Linear(3, 1), linear_loss, cfg)
    with pytest.raises(ConfigError) as err:
        trainer.fit([regression_data()], [regression_data()])
    assert str(err.value) == ("TrainConfig.monitor='val_acc': expected one of this epoch's metrics: "
                              "'train_loss', 'val_loss', got no such metric (set monitor to one of them)")


def test_early_stopping_without_validation_data_is_an_error_before_training():
    trainer = Trainer(torch.nn.Linear(3, 1), linear_loss, TrainConfig(patience=2, progress="none"))
    with pytest.raises(ConfigError, match="pass val_batches, or set monitor='train_loss'"):
        trainer.fit([regression_data()])


def test_loss_fn_must_return_a_scalar_of_the_right_shape():
    x, y = regression_data()
    cfg = TrainConfig(epochs=1, progress="none")
    per_sample = Trainer(torch.nn.Linear(3, 1), lambda m, b: (m(b[0]) - b[1]) ** 2, cfg)
    with pytest.raises(ShapeError, match=r"loss_fn: the loss: expected a scalar \(0-dim\) Tensor, "
                                         r"got shape \(32, 1\) \(reduce it, e.g. with .mean\(\)\)"):
        per_sample.fit([(x, y)])
    pair = Trainer(torch.nn.Linear(3, 1), lambda m, b: (linear_loss(m, b), None), cfg)
    with pytest.raises(ConfigError, match=r"loss_fn\(model, batch\): expected a scalar Tensor, got tuple"):
        pair.fit([(x, y)])
