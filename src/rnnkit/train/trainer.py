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

The loop's state is a :class:`rnnkit.train.run.Run`; what a checkpoint keeps of it and how a
resume restores it is :mod:`rnnkit.train.resume`; the epoch's evaluation and monitored
metric are :mod:`rnnkit.train.evaluation`.
"""

from __future__ import annotations

import math
import time
import warnings
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import torch
from torch.optim.lr_scheduler import ReduceLROnPlateau

from rnnkit.errors import ConfigError, DataError, NonFiniteError, problem
from rnnkit.train.averaging import WeightAverage
from rnnkit.train.checkpoint import CHECKPOINT_NAME, load_checkpoint, remove_stale_temp_files, save_checkpoint
from rnnkit.train.checks import check_arguments, loss_and_state
from rnnkit.train.config import TrainConfig
from rnnkit.train.devices import amp_enabled, make_grad_scaler, select_device
from rnnkit.train.distributed import (
    all_true,
    close_distributed,
    gather_objects,
    init_distributed,
    mean_over_ranks,
    shard_batch,
    wrap_model,
)
from rnnkit.train.early_stopping import EarlyStopping
from rnnkit.train.evaluation import check_monitor_source, evaluate_epoch, monitored_value
from rnnkit.train.history import History
from rnnkit.train.nested import map_tensors, to_device
from rnnkit.train.optim import batch_count, build_optimizer, build_scheduler, clip_gradients, total_steps
from rnnkit.train.reporting import Reporter
from rnnkit.train.resume import checkpoint_payload, restore_run
from rnnkit.train.rng import capture_rng, restore_rng, seed_everything
from rnnkit.train.run import Run
from rnnkit.train.tbptt import detach_state, split_time

LossFn = Callable[..., Any]
EvaluateFn = Callable[[torch.nn.Module, Any], "dict[str, float]"]


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
        check_monitor_source(cfg, val_batches, self.evaluate_fn)
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
    def _setup(self, train_batches: Iterable[Any]) -> Run:
        cfg = self.cfg
        device = select_device(cfg.device)
        amp = amp_enabled(cfg.amp, device)
        self.model.to(device)
        self.model.train()
        self.optimizer = build_optimizer(self.model.parameters(), cfg)
        total = total_steps(train_batches, cfg) if cfg.schedule == "cosine" else None
        self.scheduler = build_scheduler(self.optimizer, cfg, total)
        scaler = make_grad_scaler() if amp else None
        self.optimizer.zero_grad(set_to_none=True)
        average = WeightAverage(self.model, cfg.ema_decay) if cfg.ema_decay is not None else None
        dist_ctx = init_distributed(device)  # last: nothing above can leave a group behind
        return Run(model=self.model, optimizer=self.optimizer, scheduler=self.scheduler,
                    scaler=scaler, dist=dist_ctx, device=device, amp=amp,
                    stopper=EarlyStopping(cfg.mode, cfg.patience), average=average)

    def _start(self, run: Run, resume: bool) -> None:
        path = self.checkpoint_path
        if path is not None and run.dist.is_main:  # what a writer killed mid-write left
            remove_stale_temp_files(path.parent, path.name)
        if resume and path is None:
            raise ConfigError(problem("fit(resume=True)", expected="a Trainer with out_dir",
                                      got="out_dir=None", fix="pass the out_dir of the run to resume"))
        if resume and path.exists():
            restore_run(run, self.model, self.cfg, load_checkpoint(path, run.device), path)
            return
        if resume:
            warnings.warn(f"fit(resume=True): no checkpoint at {path}; starting a fresh run",
                          UserWarning, stacklevel=3)
        seed_everything(self.cfg.seed)

    # -- phase 3: one epoch -------------------------------------------------------------
    def _train_epoch(self, run: Run, batches: Iterable[Any], reporter: Reporter) -> float:
        if run.batch == 0:
            run.loss_sum, run.loss_count, run.skipped = 0.0, 0, 0
        self.model.train()
        batch_iter = self._epoch_batches(run, batches)
        reporter.start_epoch(run.epoch + 1, batch_count(batches), done=run.batch)
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

    def _epoch_batches(self, run: Run, batches: Iterable[Any]) -> Iterator[Any]:
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

    def _train_batch(self, run: Run, batch: Any, index: int) -> float:
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

    def _forward(self, run: Run, unit: Any, state: Any) -> tuple[torch.Tensor, Any]:
        autocast = torch.autocast("cuda", dtype=torch.float16) if run.amp else nullcontext()
        with autocast:
            if self.cfg.tbptt_steps is None:
                out = self.loss_fn(run.model, unit)
            else:
                out = self.loss_fn(run.model, unit, state)
        return loss_and_state(out, tbptt=self.cfg.tbptt_steps is not None)

    def _backward(self, run: Run, loss: torch.Tensor, index: int, chunk: int | None = None) -> float:
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

    def _step(self, run: Run, where: str) -> None:
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

    def _skip_step(self, run: Run, where: str) -> None:
        if run.bad is None:  # the NaN/inf was on another rank
            run.bad = ("loss or gradient on another rank", math.nan, where)
        if self.cfg.on_nonfinite == "raise":
            raise self._nonfinite_error(run)
        run.optimizer.zero_grad(set_to_none=True)
        run.pending, run.bad, run.skipped = 0, None, run.skipped + 1

    def _nonfinite_error(self, run: Run) -> NonFiniteError:
        what, value, where = run.bad
        last = (f"the last good checkpoint is {run.last_checkpoint}" if run.last_checkpoint
                else "no checkpoint was written before it")
        return NonFiniteError(problem(
            f"training: non-finite {what} at {where}", expected="a finite value", got=value,
            fix=f"{last}; lower lr, set grad_clip_norm, check the data for NaN, "
                "or set on_nonfinite='skip'"))

    def _where(self, run: Run, index: int, chunk: int | None = None) -> str:
        where = f"epoch {run.epoch + 1}, optimizer step {run.history.steps + 1}, batch index {index}"
        return where + (f", chunk {chunk}" if chunk is not None else "")

    # -- phase 4: evaluate and track the monitored metric ------------------------------
    def _end_epoch(self, run: Run, val_batches: Any, train_loss: float, started: float) -> dict:
        # with ema_decay the averaged weights are evaluated and kept as best
        with run.average.swapped_in(self.model) if run.average is not None else nullcontext():
            return self._score_epoch(run, val_batches, train_loss, started)

    def _score_epoch(self, run: Run, val_batches: Any, train_loss: float, started: float) -> dict:
        metrics = evaluate_epoch(self.model, val_batches, self.loss_fn, self.evaluate_fn,
                                 self.cfg, run)
        row: dict[str, Any] = {"epoch": run.epoch + 1, "train_loss": train_loss, **(metrics or {}),
                               "lr": float(run.optimizer.param_groups[0]["lr"]),
                               "seconds": time.perf_counter() - started,
                               "steps": run.history.steps, "skipped": run.skipped}
        value = monitored_value(self.cfg, row, evaluated=metrics is not None)
        if value is not None:
            run.stopper.update(value, run.epoch + 1, self.model)
            run.history.best_epoch = run.stopper.best_epoch
            run.history.best_value = run.stopper.best_value
            if isinstance(run.scheduler, ReduceLROnPlateau):
                run.scheduler.step(value)
            run.history.stopped_early = run.stopper.should_stop
        run.history.rows.append(row)
        return row

    # -- phase 5 and stopping: checkpoints ------------------------------------------------
    def _step_checkpoint_due(self, run: Run) -> bool:
        every = self.cfg.checkpoint_every_steps
        return (every is not None and run.pending == 0
                and run.history.steps - run.last_checkpoint_step >= every)

    def _save_checkpoint(self, run: Run) -> None:
        if self.out_dir is None:
            return
        states = None
        if self.cfg.carry_state:  # every rank's own state (a collective: all ranks call it)
            states = gather_objects(map_tensors(run.state, lambda t: t.cpu()), run.dist)
        run.last_checkpoint, run.last_checkpoint_step = self.checkpoint_path, run.history.steps
        if run.dist.is_main:
            save_checkpoint(checkpoint_payload(run, self.model, self.cfg, states),
                            self.checkpoint_path)

    def _reached_max_steps(self, run: Run) -> bool:
        return self.cfg.max_steps is not None and run.history.steps >= self.cfg.max_steps

    def _finished(self, run: Run) -> bool:
        return run.history.stopped_early or self._reached_max_steps(run)


_END = object()

