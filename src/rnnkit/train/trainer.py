"""The ``Trainer``: one training loop for every task.

A task hands the trainer a model, a loss function and batches; the trainer does not know
what it trains. The loop reads like nanoGPT's ``train.py``: numbered phases, one comment
each. Full BPTT calls ``loss_fn(model, batch) -> loss``; truncated BPTT
(``cfg.tbptt_steps=k``) calls ``loss_fn(model, chunk, state) -> (loss, state)`` once per
chunk of ``k`` time steps, stepping the optimizer after each chunk.

Exact resume: a run killed after a checkpoint and resumed with ``fit(resume=True)`` ends
with the same weights, bit for bit on CPU, as a run that was never stopped. For that the
data pipeline must draw its randomness from the global torch RNG (as
``DataLoader(shuffle=True)`` does; a ``generator=`` of its own is not saved), and iterating
``train_batches`` must give the same batches each time it is given the same RNG state.
"""

from __future__ import annotations

import math
import time
import warnings
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import torch
from torch.optim.lr_scheduler import ReduceLROnPlateau

from rnnkit.errors import ConfigError, DataError, NonFiniteError, problem
from rnnkit.train.averaging import WeightAverage
from rnnkit.train.checks import (as_floats, check_arguments, loss_and_state,
                                 warn_config_changes)
from rnnkit.train.checkpoint import CHECKPOINT_NAME, load_checkpoint, save_checkpoint
from rnnkit.train.config import TrainConfig
from rnnkit.train.devices import amp_enabled, make_grad_scaler, select_device
from rnnkit.train.distributed import (DistContext, all_true, broadcast_object, close_distributed,
                                      gather_objects, init_distributed, mean_over_ranks,
                                      shard_batch, wrap_model)
from rnnkit.train.early_stopping import EarlyStopping
from rnnkit.train.evaluation import evaluate_loss
from rnnkit.train.history import History
from rnnkit.train.nested import map_tensors, to_device
from rnnkit.train.optim import build_optimizer, build_scheduler, clip_gradients
from rnnkit.train.reporting import Reporter
from rnnkit.train.rng import capture_rng, restore_rng, seed_everything
from rnnkit.train.tbptt import detach_state, num_chunks, split_time

LossFn = Callable[..., Any]
EvaluateFn = Callable[[torch.nn.Module, Any], "dict[str, float]"]


@dataclass
class _Run:
    """The mutable state of one ``fit``: what a checkpoint saves and a resume restores."""

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


class Trainer:
    """Train ``model`` by minimising ``loss_fn`` over batches.

    >>> trainer = Trainer(model, loss_fn, TrainConfig(epochs=20, lr=1e-3), out_dir="runs/exp1")
    >>> history = trainer.fit(train_batches, val_batches)

    ``loss_fn(model, batch)`` returns a scalar tensor (``loss_fn(model, chunk, state) ->
    (loss, state)`` with ``tbptt_steps``); it must call ``model(...)`` so that DDP sees the
    forward. A batch is a tensor, a tuple/list or a dict of tensors, moved to the device
    for you. ``evaluate_fn(model, val_batches) -> dict[str, float]`` replaces the default
    evaluation (the mean ``loss_fn`` over ``val_batches`` as ``val_loss``); it is called
    once per epoch under ``torch.no_grad()`` with the model in eval mode, and gets
    ``val_batches`` as given (even None, for an evaluate_fn with data of its own). With
    ``out_dir``, the trainer writes ``checkpoint.pt``, ``metrics.csv``,
    ``training_curve.png`` (and ``tensorboard/``) there.
    """

    def __init__(self, model: torch.nn.Module, loss_fn: LossFn, cfg: TrainConfig | None = None,
                 out_dir: str | Path | None = None, evaluate_fn: EvaluateFn | None = None) -> None:
        cfg = TrainConfig() if cfg is None else cfg
        check_arguments(model, loss_fn, cfg, evaluate_fn)
        if out_dir is None and (cfg.checkpoint_every_steps or cfg.tensorboard):
            field_name = "checkpoint_every_steps" if cfg.checkpoint_every_steps else "tensorboard"
            raise ConfigError(problem(f"TrainConfig.{field_name}", expected="a Trainer with out_dir",
                                      got="out_dir=None", fix="pass out_dir='runs/NAME'"))
        self.model, self.loss_fn, self.cfg = model, loss_fn, cfg
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.evaluate_fn = evaluate_fn
        self.optimizer: torch.optim.Optimizer | None = None
        self.scheduler: Any = None
        self.history: History | None = None

    @property
    def checkpoint_path(self) -> Path | None:
        return self.out_dir / CHECKPOINT_NAME if self.out_dir is not None else None

    # ---------------------------------------------------------------------------------
    def fit(self, train_batches: Iterable[Any], val_batches: Iterable[Any] | None = None,
            resume: bool = False) -> History:
        """Train for ``cfg.epochs`` (or until early stopping / ``max_steps``); see the class doc."""
        cfg = self.cfg
        self._check_monitor_source(val_batches)
        # 1. set up: device, process group, optimizer, lr schedule, AMP scaler
        run = self._setup(train_batches)
        reporter = Reporter(cfg, self.out_dir, enabled=run.dist.is_main)
        try:
            # 2. start fresh (seed every RNG) or resume from out_dir/checkpoint.pt
            self._start(run, resume)
            run.model = wrap_model(self.model, run.dist, run.device)
            while run.epoch < cfg.epochs and not self._finished(run):
                started = time.perf_counter()
                # 3. train one epoch (a resumed epoch skips the batches it already consumed)
                train_loss = self._train_epoch(run, train_batches, reporter)
                # 4. evaluate; track the monitored metric (best weights, plateau, stopping)
                row = self._end_epoch(run, val_batches, train_loss, started)
                # 5. log the epoch, then checkpoint at the epoch boundary
                reporter.end_epoch(row, run.history.rows)
                run.epoch, run.batch, run.state = run.epoch + 1, 0, None
                self._save_checkpoint(run)
            # 6. put back the best weights (early stopping; averaged with ema_decay) or the
            #    final average, and draw the training curve
            if cfg.patience is not None and run.stopper.best_weights is not None:
                run.stopper.restore_best(self.model)
            elif run.average is not None:
                run.average.copy_to(self.model)
            reporter.finish(run.history.rows, cfg.monitor)
        finally:
            reporter.close()
            # drop DDP (its reducer holds the process group) before the group is destroyed:
            # the other order can hang in gloo's teardown
            run.model = self.model
            close_distributed(run.dist)
        self.history = run.history
        return run.history

    # -- phases 1 and 2: set up, start or resume --------------------------------------
    def _setup(self, train_batches: Iterable[Any]) -> _Run:
        cfg = self.cfg
        device = select_device(cfg.device)
        amp = amp_enabled(cfg.amp, device)
        self.model.to(device)
        self.model.train()
        self.optimizer = build_optimizer(self.model.parameters(), cfg)
        total = self._total_steps(train_batches) if cfg.schedule == "cosine" else None
        self.scheduler = build_scheduler(self.optimizer, cfg, total)
        scaler = make_grad_scaler() if amp else None
        self.optimizer.zero_grad(set_to_none=True)
        average = WeightAverage(self.model, cfg.ema_decay) if cfg.ema_decay is not None else None
        dist_ctx = init_distributed(device)  # last: nothing above can leave a group behind
        return _Run(model=self.model, optimizer=self.optimizer, scheduler=self.scheduler,
                    scaler=scaler, dist=dist_ctx, device=device, amp=amp,
                    stopper=EarlyStopping(cfg.mode, cfg.patience), average=average)

    def _start(self, run: _Run, resume: bool) -> None:
        path = self.checkpoint_path
        if resume and path is None:
            raise ConfigError(problem("fit(resume=True)", expected="a Trainer with out_dir",
                                      got="out_dir=None", fix="pass the out_dir of the run to resume"))
        if resume and path.exists():
            self._restore(run, load_checkpoint(path, run.device), path)
            return
        if resume:
            warnings.warn(f"fit(resume=True): no checkpoint at {path}; starting a fresh run",
                          UserWarning, stacklevel=3)
        seed_everything(self.cfg.seed)

    def _restore(self, run: _Run, ckpt: dict[str, Any], path: Path) -> None:
        warn_config_changes(ckpt.get("config", {}), self.cfg.to_dict())
        self.model.load_state_dict(ckpt["model"])
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

    # -- phase 3: one epoch -------------------------------------------------------------
    def _train_epoch(self, run: _Run, batches: Iterable[Any], reporter: Reporter) -> float:
        if run.batch == 0:
            run.loss_sum, run.loss_count, run.skipped = 0.0, 0, 0
        self.model.train()
        batch_iter = self._epoch_batches(run, batches)
        reporter.start_epoch(run.epoch + 1, _length(batches), done=run.batch)
        for index, batch in enumerate(batch_iter, start=run.batch):
            last_loss = self._train_batch(run, batch, index)
            run.batch = index + 1
            reporter.batch(last_loss)
            # checkpoint every N optimizer steps, at a batch boundary with no gradient pending
            if self._step_checkpoint_due(run):
                self._save_checkpoint(run)
            if self._reached_max_steps(run):
                break
        # the last optimizer step of the epoch takes what is left of the accumulation
        if run.pending:
            self._step(run, f"{self._where(run, run.batch - 1)} (end of epoch)")
        if run.skipped:
            warnings.warn(f"epoch {run.epoch + 1}: skipped {run.skipped} optimizer step(s) with a "
                          "non-finite loss or gradient (on_nonfinite='skip')", UserWarning,
                          stacklevel=4)
        if run.loss_count == 0 and not run.skipped:
            raise DataError(problem("Trainer.fit: train_batches", expected="at least one batch",
                                    got="none in this epoch", fix="check the DataLoader/dataset"))
        mean = run.loss_sum / run.loss_count if run.loss_count else math.nan
        return mean_over_ranks(mean, run.dist, run.device)

    def _epoch_batches(self, run: _Run, batches: Iterable[Any]) -> Iterator[Any]:
        """This epoch's batches; a resumed epoch replays its order and skips what was used."""
        if run.resume_rng is None:
            run.epoch_rng = capture_rng()
            return iter(batches)
        # the RNG as it was when this epoch began -> a shuffling DataLoader draws the same order
        restore_rng(run.epoch_rng)
        batch_iter = iter(batches)
        for consumed in range(run.batch):
            if next(batch_iter, _END) is _END:
                raise DataError(problem("resume: train_batches", expected=f"at least {run.batch} "
                                        "batches, as in the checkpointed run", got=consumed,
                                        fix="resume with the same training data"))
        restore_rng(run.resume_rng)
        run.resume_rng = None
        return batch_iter

    def _train_batch(self, run: _Run, batch: Any, index: int) -> float:
        cfg = self.cfg
        # 3a. move the batch to the device and keep this rank's slice of it
        batch = shard_batch(to_device(batch, run.device), run.dist, cfg.batch_dim)
        if cfg.tbptt_steps is None:
            # 3b. full BPTT: forward, loss, backward; step every `accumulate` batches
            loss, _ = self._forward(run, batch, None)
            value = self._backward(run, loss, index)
            if run.pending == cfg.accumulate:
                self._step(run, self._where(run, index))
            return value
        state = run.state if cfg.carry_state else None
        for chunk_index, chunk in enumerate(split_time(batch, cfg.tbptt_steps, cfg.time_dim,
                                                       cfg.batch_dim)):
            # 3b. TBPTT: take the next chunk; forward from the carried state; loss; backward
            loss, state = self._forward(run, chunk, state)
            value = self._backward(run, loss, index, chunk_index)
            # 3c. clip and step after every chunk (every `accumulate` chunks)
            if run.pending == cfg.accumulate:
                self._step(run, self._where(run, index, chunk_index))
            # 3d. detach the carried state: no gradient flows across the chunk boundary
            state = detach_state(state)
            if self._reached_max_steps(run):
                break
        run.state = state if cfg.carry_state else None
        return value

    def _forward(self, run: _Run, unit: Any, state: Any) -> tuple[torch.Tensor, Any]:
        autocast = torch.autocast("cuda", dtype=torch.float16) if run.amp else nullcontext()
        with autocast:
            if self.cfg.tbptt_steps is None:
                out = self.loss_fn(run.model, unit)
            else:
                out = self.loss_fn(run.model, unit, state)
        return loss_and_state(out, tbptt=self.cfg.tbptt_steps is not None)

    def _backward(self, run: _Run, loss: torch.Tensor, index: int, chunk: int | None = None) -> float:
        """Backward of ``loss / accumulate``; a NaN/inf loss is noted (or raised). Returns it."""
        value = float(loss.detach())
        if not math.isfinite(value):
            where = self._where(run, index, chunk)
            run.bad = run.bad or ("loss", value, where)
            if self.cfg.on_nonfinite == "raise" and not run.dist.active:
                raise self._nonfinite_error(run)
            if not run.dist.active:  # nothing to learn from; DDP still needs the backward
                run.pending += 1
                return value
        else:
            run.loss_sum, run.loss_count = run.loss_sum + value, run.loss_count + 1
        if not loss.requires_grad:
            raise ConfigError(problem("loss_fn", expected="a loss computed from the model's output "
                                      "(requires_grad=True)", got="a tensor without a gradient",
                                      fix="do not compute the loss under torch.no_grad() or detach it"))
        scaled = loss / self.cfg.accumulate  # a mean over the accumulated batches
        (run.scaler.scale(scaled) if run.scaler is not None else scaled).backward()
        run.pending += 1
        return value

    def _step(self, run: _Run, where: str) -> None:
        """Check, clip and take one optimizer step (or skip it on a NaN/inf)."""
        ok = all_true(run.bad is None, run.dist, run.device)  # the same verdict on every rank
        if ok:
            if run.scaler is not None:
                run.scaler.unscale_(run.optimizer)  # clip the true gradients, not scaled ones
            norm = float(clip_gradients(self.model.parameters(), self.cfg.grad_clip_norm,
                                        self.cfg.grad_clip_value))
            # with AMP an overflow is normal: GradScaler skips that step and lowers its scale
            if not run.amp and not math.isfinite(norm):
                ok, run.bad = False, ("gradient norm", norm, where)
        if not ok:
            self._skip_step(run, where)
            return
        if run.scaler is not None:
            run.scaler.step(run.optimizer)
            run.scaler.update()
        else:
            run.optimizer.step()
        run.optimizer.zero_grad(set_to_none=True)
        if run.average is not None:
            run.average.update(self.model)
        if run.scheduler is not None and not isinstance(run.scheduler, ReduceLROnPlateau):
            run.scheduler.step()
        run.history.steps += 1
        run.pending = 0

    def _skip_step(self, run: _Run, where: str) -> None:
        if run.bad is None:  # the NaN/inf was on another rank
            run.bad = ("loss or gradient on another rank", math.nan, where)
        if self.cfg.on_nonfinite == "raise":
            raise self._nonfinite_error(run)
        run.optimizer.zero_grad(set_to_none=True)
        run.pending, run.bad, run.skipped = 0, None, run.skipped + 1

    def _nonfinite_error(self, run: _Run) -> NonFiniteError:
        what, value, where = run.bad
        last = (f"the last good checkpoint is {run.last_checkpoint}" if run.last_checkpoint
                else "no checkpoint was written before it")
        return NonFiniteError(problem(
            f"training: non-finite {what} at {where}", expected="a finite value", got=value,
            fix=f"{last}; lower lr, set grad_clip_norm, check the data for NaN, "
                "or set on_nonfinite='skip'"))

    def _where(self, run: _Run, index: int, chunk: int | None = None) -> str:
        where = f"epoch {run.epoch + 1}, optimizer step {run.history.steps + 1}, batch index {index}"
        return where + (f", chunk {chunk}" if chunk is not None else "")

    # -- phase 4: evaluate and track the monitored metric ------------------------------
    def _end_epoch(self, run: _Run, val_batches: Any, train_loss: float, started: float) -> dict:
        # with ema_decay the averaged weights are evaluated and kept as best
        with run.average.swapped_in(self.model) if run.average is not None else nullcontext():
            return self._score_epoch(run, val_batches, train_loss, started)

    def _score_epoch(self, run: _Run, val_batches: Any, train_loss: float, started: float) -> dict:
        metrics = self._evaluate(run, val_batches)
        row: dict[str, Any] = {"epoch": run.epoch + 1, "train_loss": train_loss, **(metrics or {}),
                               "lr": float(run.optimizer.param_groups[0]["lr"]),
                               "seconds": time.perf_counter() - started,
                               "steps": run.history.steps, "skipped": run.skipped}
        value = self._monitored(row, evaluated=metrics is not None)
        if value is not None:
            run.stopper.update(value, run.epoch + 1, self.model)
            run.history.best_epoch = run.stopper.best_epoch
            run.history.best_value = run.stopper.best_value
            if isinstance(run.scheduler, ReduceLROnPlateau):
                run.scheduler.step(value)
            run.history.stopped_early = run.stopper.should_stop
        run.history.rows.append(row)
        return row

    def _evaluate(self, run: _Run, val_batches: Any) -> dict[str, float] | None:
        # Every rank evaluates (so every rank's RNG moves alike); rank 0's numbers are used.
        if self.evaluate_fn is None and val_batches is None:
            return None
        if self.evaluate_fn is not None:
            self.model.eval()
            with torch.no_grad():
                metrics = as_floats(self.evaluate_fn(self.model, val_batches))
        else:
            autocast = (lambda: torch.autocast("cuda", dtype=torch.float16)) if run.amp else nullcontext
            metrics = evaluate_loss(self.model, val_batches, self.loss_fn, self.cfg, run.device,
                                    autocast)
        self.model.train()
        return broadcast_object(metrics, run.dist)

    def _monitored(self, row: dict[str, Any], evaluated: bool) -> float | None:
        monitor = self.cfg.monitor
        if monitor in row:
            return float(row[monitor])
        if evaluated or self.cfg.patience is not None or self.cfg.schedule == "plateau":
            keys = ", ".join(repr(k) for k in row if k not in ("epoch", "lr", "seconds", "steps",
                                                               "skipped"))
            raise ConfigError(problem(f"TrainConfig.monitor={monitor!r}",
                                      expected=f"one of this epoch's metrics: {keys}",
                                      got="no such metric", fix="set monitor to one of them"))
        return None

    def _check_monitor_source(self, val_batches: Any) -> None:
        cfg = self.cfg
        needs = cfg.patience is not None or cfg.schedule == "plateau"
        no_eval = val_batches is None and self.evaluate_fn is None
        if needs and no_eval and cfg.monitor != "train_loss":
            raise ConfigError(problem(
                f"TrainConfig.monitor={cfg.monitor!r}", expected="val_batches or an evaluate_fn "
                "to compute it (patience or schedule='plateau' need it)", got="neither",
                fix="pass val_batches, or set monitor='train_loss'"))

    # -- phase 5 and stopping: checkpoints ------------------------------------------------
    def _step_checkpoint_due(self, run: _Run) -> bool:
        every = self.cfg.checkpoint_every_steps
        return (every is not None and run.pending == 0
                and run.history.steps - run.last_checkpoint_step >= every)

    def _save_checkpoint(self, run: _Run) -> None:
        if self.out_dir is None:
            return
        states = None
        if self.cfg.carry_state:  # every rank's own state (a collective: all ranks call it)
            states = gather_objects(map_tensors(run.state, lambda t: t.cpu()), run.dist)
        run.last_checkpoint, run.last_checkpoint_step = self.checkpoint_path, run.history.steps
        if run.dist.is_main:
            save_checkpoint(self._checkpoint_payload(run, states), self.checkpoint_path)

    def _checkpoint_payload(self, run: _Run, states: list | None) -> dict[str, Any]:
        rng_now = capture_rng()
        return {
            "model": self.model.state_dict(),
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
            "config": self.cfg.to_dict(),
        }

    def _reached_max_steps(self, run: _Run) -> bool:
        return self.cfg.max_steps is not None and run.history.steps >= self.cfg.max_steps

    def _finished(self, run: _Run) -> bool:
        return run.history.stopped_early or self._reached_max_steps(run)

    def _total_steps(self, train_batches: Iterable[Any]) -> int:
        """Optimizer steps in the whole run (what the cosine schedule decays over)."""
        cfg = self.cfg
        n = _length(train_batches)
        if n is None:
            if cfg.max_steps is None:
                raise ConfigError(problem("TrainConfig.schedule='cosine'", expected="train_batches "
                                          "with a len() or max_steps", got=type(train_batches).__name__,
                                          fix="set max_steps"))
            return cfg.max_steps
        units = n * (self._chunks_per_batch(train_batches) if cfg.tbptt_steps else 1)
        total = math.ceil(units / cfg.accumulate) * cfg.epochs
        return min(total, cfg.max_steps) if cfg.max_steps is not None else total

    def _chunks_per_batch(self, train_batches: Iterable[Any]) -> int:
        # Peek at the first batch without moving any RNG (a shuffling DataLoader draws one).
        rng = capture_rng()
        first = next(iter(train_batches))
        restore_rng(rng)
        return num_chunks(first, self.cfg.tbptt_steps, self.cfg.time_dim, self.cfg.batch_dim)


_END = object()


def _length(batches: Iterable[Any]) -> int | None:
    try:
        return len(batches)  # type: ignore[arg-type]
    except TypeError:
        return None
