"""The mutable state of one ``Trainer.fit``: what a checkpoint saves and a resume restores."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from rnnkit.train.averaging import WeightAverage
from rnnkit.train.distributed import DistContext
from rnnkit.train.early_stopping import EarlyStopping
from rnnkit.train.history import History


@dataclass
class Run:
    """Everything one ``fit`` changes as it goes, in one place (see :mod:`rnnkit.train.resume`
    for what a checkpoint keeps of it)."""

    model: torch.nn.Module  # what loss_fn gets: the model, or DDP around it
    optimizer: torch.optim.Optimizer
    scheduler: Any  # LambdaLR (stepped per optimizer step), ReduceLROnPlateau or None
    scaler: Any  # torch.amp.GradScaler when amp is on, else None
    dist: DistContext
    device: torch.device
    amp: bool
    stopper: EarlyStopping
    history: History = field(default_factory=History)
    epoch: int = 0  # the 0-based epoch in progress
    batch: int = 0  # batches of this epoch already consumed
    state: Any = None  # TBPTT state carried across batches (carry_state=True)
    epoch_rng: dict | None = None  # RNG states when this epoch began
    resume_rng: dict | None = None  # RNG states at the checkpoint, restored after the skip
    pending: int = 0  # backward passes since the last optimizer step
    bad: tuple | None = None  # (what, value, where) of the first NaN/inf since the last step
    loss_sum: float = 0.0  # sum and count of this epoch's finite losses
    loss_count: int = 0
    skipped: int = 0  # steps skipped this epoch (on_nonfinite="skip")
    last_checkpoint: Path | None = None
    last_checkpoint_step: int = 0
    average: WeightAverage | None = None  # the weights' moving average (cfg.ema_decay)
