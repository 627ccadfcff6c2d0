"""What a run shows and leaves behind: progress, epoch lines, metrics.csv, TensorBoard, curve.

Named ``reporting`` so as not to shadow the standard library's ``logging``. A reporter on a
rank other than 0 does nothing, so only one process prints and writes.
"""

from __future__ import annotations

import csv
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from rnnkit.train.config import TrainConfig
from rnnkit.train.curve import plot_curve

CSV_NAME = "metrics.csv"
CURVE_NAME = "training_curve.png"
TENSORBOARD_DIR = "tensorboard"


def format_eta(seconds: float) -> str:
    """``42s``, ``3m05s`` or ``1h02m``."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def format_batch(epoch: int, epochs: int, done: int, total: int | None, loss: float, metric: str,
                 rate: float) -> str:
    """A plain line inside a long epoch: ``epoch 1/20  batch 40/125  loss 0.5321  1.3 it/s  ETA 1m05s``."""
    parts = [f"epoch {epoch}/{epochs}", f"batch {done}/{total}" if total else f"batch {done}",
             f"loss {loss:.4f}{metric}", f"{rate:.1f} it/s"]
    if total and rate > 0:
        parts.append(f"ETA {format_eta((total - done) / rate)}")
    return "  ".join(parts)


def format_row(row: dict[str, Any], epochs: int) -> str:
    """One plain line per epoch: ``epoch 3/20  train_loss 0.1234  val_loss ...  12.3s``."""
    parts = [f"epoch {row['epoch']}/{epochs}"]
    for key, value in row.items():
        if key in ("epoch", "seconds", "steps", "skipped") or not isinstance(value, float):
            continue
        parts.append(f"{key} {value:.3e}" if key == "lr" else f"{key} {value:.4f}")
    if row.get("skipped"):
        parts.append(f"skipped {row['skipped']}")
    parts.append(f"{row.get('seconds', 0.0):.1f}s")
    return "  ".join(parts)


class Reporter:
    """Progress bar or plain lines, plus metrics.csv, TensorBoard and the training curve.

    ``progress="auto"`` draws a bar (batches, loss, the monitored metric, rate, ETA) when
    stderr is a terminal, and prints plain lines otherwise: one per epoch (losses, metric,
    time), and inside an epoch longer than :attr:`plain_every` seconds one more line each
    time that passes (batch, loss, rate, ETA)."""

    plain_every = 30.0  # seconds between plain lines inside a long epoch

    def __init__(self, cfg: TrainConfig, out_dir: Path | None, enabled: bool) -> None:
        self.cfg, self.out_dir, self.enabled = cfg, out_dir, enabled
        if enabled and out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
        style = cfg.progress
        if style == "auto":
            style = "bar" if sys.stderr.isatty() else "plain"
        self.style = style if enabled else "none"
        self._bar = self._task = None
        self._metric = ""  # the monitored metric of the last epoch, shown on the bar
        self._epoch = self._done = self._first = 0  # plain lines: where the epoch is
        self._total: int | None = None
        self._started = self._shown = 0.0
        self._writer = _open_tensorboard(out_dir) if enabled and cfg.tensorboard else None

    # -- progress ------------------------------------------------------------------
    def start_epoch(self, epoch: int, total: int | None, done: int = 0) -> None:
        self._epoch, self._total, self._done, self._first = epoch, total, done, done
        self._started = self._shown = time.perf_counter()
        if self.style != "bar":
            return
        if self._bar is None:
            self._bar = _rich_progress()
            self._bar.start()
        description = f"epoch {epoch}/{self.cfg.epochs}"
        if self._task is None:
            self._task = self._bar.add_task(description, total=total, completed=done, stats="")
        else:
            self._bar.reset(self._task, total=total, completed=done, description=description)

    def batch(self, loss: float) -> None:
        if self._bar is not None:
            self._bar.update(self._task, advance=1, stats=f"loss {loss:.4f}{self._metric}")
        elif self.style == "plain":
            self._done += 1
            now = time.perf_counter()
            if now - self._shown >= self.plain_every:
                self._shown = now
                rate = (self._done - self._first) / max(now - self._started, 1e-9)
                print(format_batch(self._epoch, self.cfg.epochs, self._done, self._total, loss,
                                   self._metric, rate), file=sys.stderr, flush=True)

    def end_epoch(self, row: dict[str, Any], rows: list[dict[str, Any]]) -> None:
        if not self.enabled:
            return
        if isinstance(row.get(self.cfg.monitor), float):
            self._metric = f"  {self.cfg.monitor} {row[self.cfg.monitor]:.4f}"
        if self.style == "bar" and self._bar is not None:
            self._bar.console.print(format_row(row, self.cfg.epochs))
        elif self.style == "plain":
            print(format_row(row, self.cfg.epochs), file=sys.stderr, flush=True)
        if self.out_dir is not None:
            write_csv(rows, self.out_dir / CSV_NAME)
        if self._writer is not None:
            for key, value in row.items():
                if key != "epoch":
                    self._writer.add_scalar(key, value, global_step=row["epoch"])
            self._writer.flush()

    def finish(self, rows: list[dict[str, Any]], monitor: str) -> None:
        """Draw the training curve (at the end of fit)."""
        if self.enabled and self.out_dir is not None and rows:
            plot_curve(rows, monitor, self.out_dir / CURVE_NAME, self.cfg.mode)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = self._task = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _rich_progress():
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
    from rich.text import Text

    class SpeedColumn(ProgressColumn):
        def render(self, task) -> Text:  # noqa: ANN001 - rich's Task
            return Text(f"{task.speed or 0.0:.1f} it/s")

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[stats]}"), SpeedColumn(), TimeRemainingColumn(),
                    console=Console(stderr=True))


def _open_tensorboard(out_dir: Path | None):
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as err:  # the tensorboard package is an optional extra
        warnings.warn(f"tensorboard=True but TensorBoard logging is unavailable ({err}); "
                      "install it with `pip install rnnkit[tensorboard]`", UserWarning, stacklevel=4)
        return None
    return SummaryWriter(log_dir=str(out_dir / TENSORBOARD_DIR))


def write_csv(rows: list[dict[str, Any]], path: Path) -> None:
    """Rewrite ``path`` with one row per epoch (columns: the union of the rows' keys)."""
    columns: list[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)
