"""What the per-task command modules (``rnnkit.cli.<task>``) share: the ``[data]`` keys a
task reads, the ``limit`` slice of its data, the line that names the model file, and the
start/end lines of long work on stderr."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import typer

from rnnkit.errors import ConfigError, nearest, problem


def check_data_keys(cfg, keys: Sequence[str]) -> None:
    """Refuse a ``[data]`` key that task ``cfg.task`` does not read, naming the nearest one."""
    for key in cfg.data:
        if key not in keys:
            guess = nearest(key, keys)
            raise ConfigError(problem(f"[data] key {key!r}", expected=f"a key task {cfg.task!r} reads "
                                      f"({', '.join(keys)})", got=repr(key),
                                      fix=f"did you mean {guess!r}?" if guess else "leave it out"))


def limit(data: dict) -> int | None:
    """``[data] limit``: at most this many examples of each split (a quick try), or None."""
    n = data.get("limit")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ConfigError(problem("[data] limit", expected="an integer >= 1 (examples per split)",
                                  got=repr(n), fix="e.g. --set data.limit=500, or leave it out"))
    return n


def subset(items, n: int | None, seed: int = 0):
    """``n`` of ``items`` (a sequence, or a tuple of aligned ones) drawn with ``seed``, in
    their order; all of them when ``n`` is None or not smaller."""
    if n is None or items is None:
        return items
    parts = items if isinstance(items, tuple) else (items,)
    if n >= len(parts[0]):
        return items
    keep = np.sort(np.random.default_rng(seed).choice(len(parts[0]), n, replace=False))
    picked = tuple(part[keep] if isinstance(part, np.ndarray) else [part[i] for i in keep]
                   for part in parts)
    return picked if isinstance(items, tuple) else picked[0]


def save_model(est, out: Path) -> Path:
    """Save ``est`` as ``OUT/model.rnnkit`` and print where."""
    path = est.save(Path(out) / "model.rnnkit")
    typer.echo(f"model file: {path}")
    return path


@contextmanager
def announced(what: str, after: float = 2.0) -> Iterator[None]:
    """Long work with a start and an end line on stderr: ``WHAT ...`` once it has run
    ``after`` seconds and ``WHAT: done in N s`` at its end (nothing for quick work, so a
    mistake found at once stays one ``error:`` line)."""
    started = time.perf_counter()
    shown = threading.Event()

    def start() -> None:
        shown.set()
        typer.echo(f"{what} ...", err=True)

    timer = threading.Timer(after, start)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
    if shown.is_set():
        typer.echo(f"{what}: done in {time.perf_counter() - started:.1f} s", err=True)
