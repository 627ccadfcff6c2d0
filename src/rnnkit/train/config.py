"""``TrainConfig``: every knob of the trainer in one small dataclass.

Like nanoGPT's ``GPTConfig``: defaults with a comment each, validated on construction so a
bad value fails at once with a message that names the field, the range and the fix. The
CLI reads the same dataclass from the ``[train]`` table of a TOML file via
:meth:`TrainConfig.from_dict`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Mapping

import torch

from rnnkit.errors import ConfigError, problem, unknown_name

OPTIMIZERS = ("adam", "adamw", "rmsprop", "sgd")
SCHEDULES = ("none", "cosine", "plateau")
MODES = ("min", "max")
ON_NONFINITE = ("raise", "skip")
PROGRESS = ("auto", "bar", "plain", "none")


@dataclass
class TrainConfig:
    """How to train: optimizer, schedule, truncation, stopping, checkpoints, logging."""

    epochs: int = 10  # passes over the training batches
    lr: float = 1e-3  # peak learning rate
    optimizer: str = "adam"  # "adam" | "adamw" | "rmsprop" | "sgd"
    momentum: float = 0.9  # momentum of sgd and rmsprop (ignored by adam/adamw)
    weight_decay: float = 0.0  # L2 penalty (decoupled for adamw)
    grad_clip_norm: float | None = None  # clip the total gradient L2 norm to this
    grad_clip_value: float | None = None  # clip every gradient element to [-v, v]
    schedule: str = "none"  # "none" | "cosine" (per step) | "plateau" (per epoch, on monitor)
    warmup_steps: int = 0  # linear warm-up over this many optimizer steps ("none"/"cosine")
    min_lr: float = 0.0  # the lr that the cosine decay ends at
    plateau_factor: float = 0.5  # multiply the lr by this when the monitor plateaus
    plateau_patience: int = 2  # epochs without improvement before the plateau cut
    accumulate: int = 1  # backward passes (batches, or chunks with TBPTT) per optimizer step
    tbptt_steps: int | None = None  # truncated BPTT chunk length k; None = full BPTT
    time_dim: int = 1  # the time axis of batch tensors (1 = batch-first)
    batch_dim: int = 0  # the batch axis of batch tensors
    carry_state: bool = False  # carry the recurrent state across batches (needs tbptt_steps)
    monitor: str = "val_loss"  # metric for early stopping, best weights and plateau
    mode: str = "min"  # "min" | "max": which direction of monitor is better
    patience: int | None = None  # early stopping after this many epochs without improvement
    ema_decay: float | None = None  # evaluate, keep and return a moving average of the weights
    #                                 with this decay (e.g. 0.999); None = the raw weights
    amp: bool = False  # mixed precision (autocast + GradScaler); CUDA only
    device: str = "auto"  # "auto" (cuda, then mps, then cpu) or a torch device string
    seed: int = 0  # seeds torch, numpy and random at the start of a fresh fit
    on_nonfinite: str = "raise"  # "raise" | "skip" a step with a NaN/inf loss or gradient
    checkpoint_every_steps: int | None = None  # also checkpoint every N optimizer steps
    max_steps: int | None = None  # stop after this many optimizer steps
    progress: str = "auto"  # "auto" (bar on a TTY) | "bar" | "plain" | "none"
    tensorboard: bool = False  # also log to out_dir/tensorboard

    def __post_init__(self) -> None:
        _check_numbers(self)
        _check_choices(self)
        _check_combinations(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "TrainConfig":
        """Build from a mapping (a TOML ``[train]`` table); unknown keys are an error."""
        names = [f.name for f in dataclasses.fields(cls)]
        for key in values:
            if key not in names:
                raise ConfigError(unknown_name("train key", key, names))
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain dict (what :meth:`from_dict` reads back)."""
        return dataclasses.asdict(self)


def _fail(field: str, expected: str, got: object, fix: str | None = None) -> ConfigError:
    return ConfigError(problem(f"TrainConfig.{field}", expected=expected, got=repr(got), fix=fix))


def _int(cfg: TrainConfig, field: str, low: int, optional: bool = False) -> None:
    value = getattr(cfg, field)
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        expected = f"an integer >= {low}" + (" or None" if optional else "")
        raise _fail(field, expected, value)


def _float(cfg: TrainConfig, field: str, low: float, *, strict: bool, optional: bool = False,
           high: float | None = None) -> None:
    value = getattr(cfg, field)
    if optional and value is None:
        return
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if strict else value >= low) and (high is None or value < high)
    if not ok:
        expected = f"a number {'>' if strict else '>='} {low:g}"
        expected += f" and < {high:g}" if high is not None else ""
        expected += " or None" if optional else ""
        raise _fail(field, expected, value)


def _check_numbers(cfg: TrainConfig) -> None:
    for field, low in (("epochs", 1), ("warmup_steps", 0), ("plateau_patience", 0),
                       ("accumulate", 1), ("time_dim", 0), ("batch_dim", 0), ("seed", 0)):
        _int(cfg, field, low)
    for field, low in (("tbptt_steps", 1), ("patience", 0), ("checkpoint_every_steps", 1),
                       ("max_steps", 1)):
        _int(cfg, field, low, optional=True)
    _float(cfg, "lr", 0.0, strict=True)
    _float(cfg, "momentum", 0.0, strict=False, high=1.0)
    _float(cfg, "weight_decay", 0.0, strict=False)
    _float(cfg, "min_lr", 0.0, strict=False)
    _float(cfg, "plateau_factor", 0.0, strict=True, high=1.0)
    _float(cfg, "grad_clip_norm", 0.0, strict=True, optional=True)
    _float(cfg, "grad_clip_value", 0.0, strict=True, optional=True)
    ema = cfg.ema_decay
    if ema is not None and (isinstance(ema, bool) or not isinstance(ema, (int, float)) or not 0 < ema < 1):
        raise _fail("ema_decay", "None or a number in (0, 1), e.g. 0.999", ema)
    for field in ("carry_state", "amp", "tensorboard"):
        if not isinstance(getattr(cfg, field), bool):
            raise _fail(field, "True or False", getattr(cfg, field))


def _check_choices(cfg: TrainConfig) -> None:
    for field, choices in (("optimizer", OPTIMIZERS), ("schedule", SCHEDULES), ("mode", MODES),
                           ("on_nonfinite", ON_NONFINITE), ("progress", PROGRESS)):
        value = getattr(cfg, field)
        if value not in choices:
            raise ConfigError(f"TrainConfig.{field}: " + unknown_name(field, str(value), choices))
    if not isinstance(cfg.monitor, str) or not cfg.monitor:
        raise _fail("monitor", "a metric name such as 'val_loss'", cfg.monitor)
    if not isinstance(cfg.device, str) or not _is_device_name(cfg.device):
        raise _fail("device", "'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'", cfg.device)


def _is_device_name(name: str) -> bool:
    if name == "auto":
        return True
    try:
        torch.device(name)
    except RuntimeError:
        return False
    return True


def _check_combinations(cfg: TrainConfig) -> None:
    if cfg.time_dim == cfg.batch_dim:
        raise _fail("time_dim", f"an axis other than batch_dim={cfg.batch_dim}", cfg.time_dim,
                    fix="use time_dim=1, batch_dim=0 for batch-first tensors")
    if cfg.min_lr > cfg.lr:
        raise _fail("min_lr", f"a number <= lr={cfg.lr}", cfg.min_lr)
    if cfg.carry_state and cfg.tbptt_steps is None:
        raise _fail("carry_state", "False when tbptt_steps is None", True,
                    fix="set tbptt_steps so that loss_fn takes and returns the state")
    if cfg.warmup_steps and cfg.schedule == "plateau":
        raise _fail("warmup_steps", "0 with schedule='plateau'", cfg.warmup_steps,
                    fix="use schedule='cosine' for warm-up, or set warmup_steps=0")
