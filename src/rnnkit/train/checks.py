"""Checks of what users hand the trainer: arguments, loss_fn results, metric dicts."""

from __future__ import annotations

import warnings
from typing import Any

import torch

from rnnkit.errors import ConfigError, ShapeError, problem
from rnnkit.train.config import TrainConfig


def loss_and_state(out: Any, tbptt: bool) -> tuple[torch.Tensor, Any]:
    if tbptt:
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise ConfigError(problem("loss_fn(model, chunk, state) with tbptt_steps set",
                                      expected="a (loss, state) pair", got=type(out).__name__,
                                      fix="return the new recurrent state with the loss"))
        loss, state = out
    else:
        if isinstance(out, (tuple, list)):
            raise ConfigError(problem("loss_fn(model, batch)", expected="a scalar Tensor",
                                      got=type(out).__name__, fix="return the loss alone; "
                                      "(loss, state) pairs are for tbptt_steps"))
        loss, state = out, None
    if not isinstance(loss, torch.Tensor) or loss.ndim != 0:
        got = f"shape {tuple(loss.shape)}" if isinstance(loss, torch.Tensor) else type(loss).__name__
        raise ShapeError(problem("loss_fn: the loss", expected="a scalar (0-dim) Tensor", got=got,
                                 fix="reduce it, e.g. with .mean()"))
    return loss, state


def as_floats(metrics: Any) -> dict[str, float]:
    if not isinstance(metrics, dict) or not metrics:
        raise ConfigError(problem("evaluate_fn(model, val_batches)", expected="a non-empty dict "
                                  "of metric name to number", got=type(metrics).__name__))
    try:
        return {str(k): float(v) for k, v in metrics.items()}
    except (TypeError, ValueError, RuntimeError) as err:
        raise ConfigError(problem("evaluate_fn(model, val_batches)", expected="numbers as values",
                                  got=repr(metrics)[:200])) from err


def check_arguments(model: Any, loss_fn: Any, cfg: Any, evaluate_fn: Any) -> None:
    if not isinstance(model, torch.nn.Module):
        raise ConfigError(problem("Trainer: model", expected="a torch.nn.Module",
                                  got=type(model).__name__))
    if not callable(loss_fn):
        raise ConfigError(problem("Trainer: loss_fn", expected="a callable loss_fn(model, batch)",
                                  got=type(loss_fn).__name__))
    if not isinstance(cfg, TrainConfig):
        raise ConfigError(problem("Trainer: cfg", expected="a TrainConfig",
                                  got=type(cfg).__name__, fix="use TrainConfig.from_dict(d)"))
    if evaluate_fn is not None and not callable(evaluate_fn):
        raise ConfigError(problem("Trainer: evaluate_fn", expected="None or a callable",
                                  got=type(evaluate_fn).__name__))


def warn_config_changes(saved: dict[str, Any], current: dict[str, Any]) -> None:
    changed = sorted(k for k in current if k in saved and saved[k] != current[k])
    if changed:
        warnings.warn(f"resuming with a TrainConfig that differs from the checkpoint's in "
                      f"{', '.join(changed)}; the run may not match an uninterrupted one",
                      UserWarning, stacklevel=4)
