"""An epoch's evaluation: ``evaluate_fn`` or the default, the mean of ``loss_fn`` over the
validation batches; and the monitored metric that early stopping and the plateau schedule
follow."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any, Callable, Iterable, Iterator

import torch

from rnnkit.errors import ConfigError, DataError, problem
from rnnkit.train.checks import as_floats
from rnnkit.train.config import TrainConfig
from rnnkit.train.distributed import broadcast_object
from rnnkit.train.nested import to_device
from rnnkit.train.run import Run
from rnnkit.train.tbptt import split_time

ContextFactory = Callable[[], AbstractContextManager]


def evaluate_loss(model: torch.nn.Module, batches: Iterable[Any], loss_fn: Callable[..., Any],
                  cfg: TrainConfig, device: torch.device,
                  autocast: ContextFactory = nullcontext) -> dict[str, float]:
    """``{"val_loss": mean loss}`` under ``torch.no_grad()`` and ``model.eval()``.

    The mean is over batches (over chunks with TBPTT, where the state is carried from chunk
    to chunk, and across batches when ``cfg.carry_state``).
    """
    was_training = model.training
    model.eval()
    total, count, state = 0.0, 0, None
    try:
        with torch.no_grad():
            for batch in batches:
                batch = to_device(batch, device)
                state = state if cfg.carry_state else None
                for loss, state in _losses(model, batch, loss_fn, cfg, state, autocast):
                    total, count = total + float(loss), count + 1
    finally:
        model.train(was_training)
    if count == 0:
        raise DataError(problem("evaluation: val_batches", expected="at least one batch",
                                got="none", fix="pass val_batches=None to skip evaluation"))
    return {"val_loss": total / count}


def evaluate_epoch(model: torch.nn.Module, val_batches: Any, loss_fn: Callable[..., Any],
                   evaluate_fn: Callable[..., Any] | None, cfg: TrainConfig,
                   run: Run) -> dict[str, float] | None:
    """This epoch's metrics (None when there is nothing to evaluate); ``model`` is left in
    train mode. Every rank evaluates (so every rank's RNG moves alike); rank 0's numbers
    are used."""
    if evaluate_fn is None and val_batches is None:
        return None
    if evaluate_fn is not None:
        model.eval()
        with torch.no_grad():
            metrics = as_floats(evaluate_fn(model, val_batches))
    else:
        autocast = (lambda: torch.autocast("cuda", dtype=torch.float16)) if run.amp else nullcontext
        metrics = evaluate_loss(model, val_batches, loss_fn, cfg, run.device, autocast)
    model.train()
    return broadcast_object(metrics, run.dist)


def monitored_value(cfg: TrainConfig, row: dict[str, Any], evaluated: bool) -> float | None:
    """The value of ``cfg.monitor`` in this epoch's ``row``; None when it is absent and
    nothing needs it; a ConfigError naming the metrics there when something does."""
    monitor = cfg.monitor
    if monitor in row:
        return float(row[monitor])
    if evaluated or cfg.patience is not None or cfg.schedule == "plateau":
        keys = ", ".join(repr(k) for k in row if k not in ("epoch", "lr", "seconds", "steps",
                                                           "skipped"))
        raise ConfigError(problem(f"TrainConfig.monitor={monitor!r}",
                                  expected=f"one of this epoch's metrics: {keys}",
                                  got="no such metric", fix="set monitor to one of them"))
    return None


def check_monitor_source(cfg: TrainConfig, val_batches: Any,
                         evaluate_fn: Callable[..., Any] | None) -> None:
    """Refuse a run whose early stopping or plateau schedule has no metric to follow."""
    needs = cfg.patience is not None or cfg.schedule == "plateau"
    no_eval = val_batches is None and evaluate_fn is None
    if needs and no_eval and cfg.monitor != "train_loss":
        raise ConfigError(problem(
            f"TrainConfig.monitor={cfg.monitor!r}", expected="val_batches or an evaluate_fn "
            "to compute it (patience or schedule='plateau' need it)", got="neither",
            fix="pass val_batches, or set monitor='train_loss'"))


def _losses(model: torch.nn.Module, batch: Any, loss_fn: Callable[..., Any], cfg: TrainConfig,
            state: Any, autocast: ContextFactory) -> Iterator[tuple[torch.Tensor, Any]]:
    # Full BPTT: one loss per batch. TBPTT: one per chunk, the state carried along.
    if cfg.tbptt_steps is None:
        with autocast():
            loss = loss_fn(model, batch)
        yield loss, None
        return
    for chunk in split_time(batch, cfg.tbptt_steps, cfg.time_dim, cfg.batch_dim):
        with autocast():
            loss, state = loss_fn(model, chunk, state)
        yield loss, state
