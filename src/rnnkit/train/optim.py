"""Optimizers, learning-rate schedules (and the steps a run takes) and gradient clipping."""

from __future__ import annotations

import math
from typing import Any, Iterable

import torch
from torch.optim.lr_scheduler import LambdaLR, LRScheduler, ReduceLROnPlateau

from rnnkit.errors import ConfigError, problem
from rnnkit.train.config import TrainConfig
from rnnkit.train.rng import capture_rng, restore_rng
from rnnkit.train.tbptt import num_chunks


def build_optimizer(params: Iterable[torch.nn.Parameter], cfg: TrainConfig) -> torch.optim.Optimizer:
    """The optimizer that ``cfg.optimizer`` names, with lr, weight decay and momentum."""
    params = [p for p in params if p.requires_grad]
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer == "rmsprop":
        return torch.optim.RMSprop(params, lr=cfg.lr, momentum=cfg.momentum,
                                   weight_decay=cfg.weight_decay)
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum,
                               weight_decay=cfg.weight_decay)
    raise AssertionError(f"unvalidated optimizer {cfg.optimizer!r}")  # TrainConfig checks it


def warmup_cosine_lr(step: int, *, lr: float, min_lr: float, warmup_steps: int,
                     total_steps: int | None) -> float:
    """The lr for optimizer step ``step`` (0-based): linear warm-up, then cosine to min_lr.

    As in nanoGPT's ``get_lr``: ``lr * (step + 1) / (warmup + 1)`` during warm-up, then
    ``min_lr + 0.5 * (1 + cos(pi * progress)) * (lr - min_lr)`` with progress going from 0
    at the end of warm-up to 1 at ``total_steps``, and ``min_lr`` after that.
    ``total_steps=None`` means no decay (warm-up, then constant ``lr``).
    """
    if step < warmup_steps:
        return lr * (step + 1) / (warmup_steps + 1)
    if total_steps is None:
        return lr
    if step >= total_steps:
        return min_lr
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (lr - min_lr)


def build_scheduler(optimizer: torch.optim.Optimizer, cfg: TrainConfig,
                    total_steps: int | None) -> LRScheduler | ReduceLROnPlateau | None:
    """The lr schedule: stepped after every optimizer step, or per epoch for "plateau"."""
    if cfg.schedule == "plateau":
        return ReduceLROnPlateau(optimizer, mode=cfg.mode, factor=cfg.plateau_factor,
                                 patience=cfg.plateau_patience)
    if cfg.schedule == "none" and cfg.warmup_steps == 0:
        return None
    decay_steps = total_steps if cfg.schedule == "cosine" else None

    def factor(step: int) -> float:
        return warmup_cosine_lr(step, lr=cfg.lr, min_lr=cfg.min_lr,
                                warmup_steps=cfg.warmup_steps, total_steps=decay_steps) / cfg.lr

    return LambdaLR(optimizer, factor)


def batch_count(batches: Iterable[Any]) -> int | None:
    """``len(batches)``, or None for batches without a length (a generator)."""
    try:
        return len(batches)  # type: ignore[arg-type]
    except TypeError:
        return None


def total_steps(train_batches: Iterable[Any], cfg: TrainConfig) -> int:
    """Optimizer steps in the whole run (what the cosine schedule decays over)."""
    n = batch_count(train_batches)
    if n is None:
        if cfg.max_steps is None:
            raise ConfigError(problem("TrainConfig.schedule='cosine'", expected="train_batches "
                                      "with a len() or max_steps", got=type(train_batches).__name__,
                                      fix="set max_steps"))
        return cfg.max_steps
    units = n * (_chunks_per_batch(train_batches, cfg) if cfg.tbptt_steps else 1)
    total = math.ceil(units / cfg.accumulate) * cfg.epochs
    return min(total, cfg.max_steps) if cfg.max_steps is not None else total


def _chunks_per_batch(train_batches: Iterable[Any], cfg: TrainConfig) -> int:
    # Peek at the first batch without moving any RNG (a shuffling DataLoader draws one).
    rng = capture_rng()
    first = next(iter(train_batches))
    restore_rng(rng)
    return num_chunks(first, cfg.tbptt_steps, cfg.time_dim, cfg.batch_dim)


def clip_gradients(params: Iterable[torch.nn.Parameter], max_norm: float | None,
                   max_value: float | None) -> torch.Tensor:
    """Clip gradients in place; returns the total L2 norm measured *before* clipping.

    The norm is taken first so that a NaN/inf gradient shows in it even when value
    clipping would clamp an inf away. Value clipping comes before norm clipping.
    """
    params = [p for p in params if p.grad is not None]
    if not params:
        return torch.tensor(0.0)
    norms = [torch.linalg.vector_norm(p.grad.detach(), 2.0) for p in params]
    total = torch.linalg.vector_norm(torch.stack([n.to(norms[0].device) for n in norms]), 2.0)
    if max_value is not None:
        torch.nn.utils.clip_grad_value_(params, max_value)
    if max_norm is not None:
        torch.nn.utils.clip_grad_norm_(params, max_norm)
    return total
