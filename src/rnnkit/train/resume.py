"""What a checkpoint holds of a run, and how a resume puts it back.

The payload is everything exact resume needs: the weights, the optimizer, schedule,
AMP-scaler, early-stopping and weight-average states, the history, where in the epoch the
run stood (epoch, batch, the epoch's running loss), every rank's carried TBPTT state, the
RNG states now and at the start of the epoch, and the config (to warn when a resume
changes it). :mod:`rnnkit.train.checkpoint` writes and reads the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from rnnkit.errors import BundleError, ConfigError, RnnkitError, problem
from rnnkit.train.checkpoint import FIX
from rnnkit.train.checks import warn_config_changes
from rnnkit.train.config import TrainConfig
from rnnkit.train.history import History
from rnnkit.train.nested import to_device
from rnnkit.train.rng import capture_rng, restore_rng
from rnnkit.train.run import Run


def checkpoint_payload(run: Run, model: torch.nn.Module, cfg: TrainConfig,
                       states: list | None) -> dict[str, Any]:
    """The checkpoint of ``run`` now; ``states`` is every rank's carried state (or None)."""
    rng_now = capture_rng()
    return {
        "model": model.state_dict(),
        "optimizer": run.optimizer.state_dict(),
        "scheduler": run.scheduler.state_dict() if run.scheduler is not None else None,
        "scaler": run.scaler.state_dict() if run.scaler is not None else None,
        "early_stopping": run.stopper.state_dict(),
        "average": run.average.state_dict() if run.average is not None else None,
        "history": run.history.to_dict(),
        "epoch": run.epoch, "batch": run.batch, "step": run.history.steps,
        "epoch_loss": [run.loss_sum, run.loss_count], "skipped": run.skipped,
        "carried_state": states,
        "rng": rng_now,
        "rng_epoch_start": run.epoch_rng if run.batch else rng_now,
        "config": cfg.to_dict(),
    }


# what restore_run reads; "average" and "config" are optional (older runs lack them)
PAYLOAD_KEYS = ("model", "optimizer", "scheduler", "scaler", "early_stopping", "history",
                "epoch", "batch", "skipped", "epoch_loss", "carried_state", "rng", "rng_epoch_start")


def restore_run(run: Run, model: torch.nn.Module, cfg: TrainConfig, ckpt: dict[str, Any],
                path: Path) -> None:
    """Put the checkpoint ``ckpt`` (read from ``path``) back into ``model`` and ``run``.

    A checkpoint without every part a resume needs is a :class:`BundleError`, weights of
    another model (other cell, sizes or layers) a :class:`ConfigError`, a part of the wrong
    kind a :class:`BundleError`: one line each, before or instead of a traceback."""
    missing = [k for k in PAYLOAD_KEYS if k not in ckpt]
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise BundleError(problem(f"checkpoint {str(path)!r}", expected="a training checkpoint "
                                  "with every part a resume needs (model, optimizer, history, rng, ...)",
                                  got=f"one without {', '.join(missing[:3])}{more}", fix=FIX))
    warn_config_changes(ckpt.get("config", {}), cfg.to_dict())
    try:
        model.load_state_dict(ckpt["model"])
    except (RuntimeError, KeyError, TypeError, ValueError, AttributeError) as err:
        raise ConfigError(problem(f"resume from {str(path)!r}", expected="weights of this model",
                                  got=f"weights that do not fit it ({_first_line(err)})",
                                  fix="resume with the model settings of that run, or start "
                                      "afresh without --resume (fit(resume=False))")) from None
    try:
        _restore_state(run, ckpt, path)
    except RnnkitError:
        raise
    except (RuntimeError, KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
        raise BundleError(problem(f"checkpoint {str(path)!r}", expected="a training checkpoint "
                                  "of this run's optimizer, schedule and state",
                                  got=f"a part that does not fit ({_first_line(err)})",
                                  fix=FIX)) from None


def _first_line(err: BaseException) -> str:
    return (" ".join(str(err).split()) or type(err).__name__)[:160]


def _restore_state(run: Run, ckpt: dict[str, Any], path: Path) -> None:
    run.optimizer.load_state_dict(ckpt["optimizer"])
    if run.scheduler is not None and ckpt["scheduler"] is not None:
        run.scheduler.load_state_dict(ckpt["scheduler"])
    if run.scaler is not None and ckpt["scaler"] is not None:
        run.scaler.load_state_dict(ckpt["scaler"])
    run.stopper.load_state_dict(ckpt["early_stopping"])
    if run.average is not None:
        if ckpt.get("average") is None:
            raise ConfigError(problem(f"resume from {path}", expected="a checkpoint with the "
                                      "weights' moving average (ema_decay was set)",
                                      got="a run trained without ema_decay",
                                      fix="resume with ema_decay=None, or start a fresh run"))
        run.average.load_state_dict(ckpt["average"])
    run.history = History.from_dict(ckpt["history"])
    run.epoch, run.batch, run.skipped = ckpt["epoch"], ckpt["batch"], ckpt["skipped"]
    run.loss_sum, run.loss_count = ckpt["epoch_loss"]
    states = ckpt["carried_state"]
    mine = states[run.dist.rank] if states and run.dist.rank < len(states) else None
    run.state = to_device(mine, run.device)
    run.last_checkpoint, run.last_checkpoint_step = path, run.history.steps
    run.epoch_rng = ckpt["rng_epoch_start"]
    if run.batch == 0:  # saved at an epoch boundary: continue from the saved RNG
        restore_rng(ckpt["rng"])
    else:  # mid-epoch: restored after replaying the epoch's batch order
        run.resume_rng = ckpt["rng"]
