"""The default evaluation: the mean of ``loss_fn`` over the validation batches."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any, Callable, Iterable, Iterator

import torch

from rnnkit.errors import DataError, problem
from rnnkit.train.config import TrainConfig
from rnnkit.train.nested import to_device
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
