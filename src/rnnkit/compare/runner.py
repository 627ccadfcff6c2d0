"""``compare_cells``: the same recipe once per cell (and hidden size), measured alike.

Peak memory, honestly: each run goes to a fresh ``spawn`` worker process (one run per
process, one process at a time, so runs neither share a heap nor compete for cores).
The worker loads the data, records its RSS high-water mark (``ru_maxrss``), runs, and
reports ``peak_mem_mb`` = high-water mark after the run minus before: the extra resident
memory the run needed beyond the interpreter, torch and the data. ``isolate=False`` runs
in this process (faster, for tests and notebooks); a process's high-water mark never goes
down, so there the number would be wrong after the first run and is reported as NaN.
"""

from __future__ import annotations

import multiprocessing
import resource
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass

from rnnkit.compare.recipes import METRICS, RunResult, check_task, run_recipe
from rnnkit.errors import ConfigError, problem, unknown_name

CELLS = {"forecast": ("rnn", "lstm", "gru"), "classify-text": ("lstm", "gru")}


@dataclass
class Run:
    """One row of the comparison: what was trained and what it measured."""

    name: str  # "gru" or "gru-64" when sizes are compared
    cell: str
    hidden_size: int | None
    result: RunResult
    peak_mem_mb: float


def _max_rss_mb() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 1024  # bytes on macOS, KiB on Linux


def measure(cfg, settings: dict, origins: int, isolated: bool) -> tuple[RunResult, float]:
    """Run one recipe here; peak memory only when this process runs nothing else."""
    before = _max_rss_mb()
    result, _ = run_recipe(cfg, settings, origins)
    return result, (_max_rss_mb() - before) if isolated else float("nan")


def _warm_imports(task: str) -> None:
    """Import what a run imports lazily, so that peak_mem_mb measures the run, not imports."""
    import importlib

    names = {"forecast": ("rnnkit.tasks.forecast", "statsmodels.tsa.holtwinters", "matplotlib.pyplot"),
             "classify-text": ("rnnkit.tasks.classify_text", "sklearn.linear_model",
                               "sklearn.feature_extraction.text", "matplotlib.pyplot")}[task]
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:  # an optional extra that the run will not use either
            pass


def _worker(cfg, settings: dict, origins: int, threads: int | None):
    import torch

    _warm_imports(cfg.task)
    if threads:
        torch.set_num_threads(threads)
    return measure(cfg, settings, origins, isolated=True)


def plan(task: str, cells: list[str], sizes: list[int]) -> list[tuple[str, str, int | None]]:
    """``(name, cell, hidden_size)`` per run; checks the cells and sizes first."""
    check_task(task, "compare")
    if not cells:
        raise ConfigError(problem("compare: --cells", expected="at least one cell", got="none",
                                  fix=f"e.g. --cells {','.join(CELLS[task])}"))
    for cell in cells:
        if cell not in CELLS[task]:
            raise ConfigError(unknown_name(f"cell for task {task!r}", cell, CELLS[task]))
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ConfigError(problem("compare: --sizes", expected="integers >= 1", got=repr(size)))
    if len(set(cells)) != len(cells) or len(set(sizes)) != len(sizes):
        raise ConfigError(problem("compare: --cells/--sizes", expected="no repeats",
                                  got=f"cells {cells}, sizes {sizes}"))
    if not sizes:
        return [(c, c, None) for c in cells]
    return [(f"{c}-{s}", c, s) for c in cells for s in sizes]


def compare_cells(cfg, cells: list[str], sizes: list[int] = (), *, origins: int = 5,
                  isolate: bool = True, threads: int | None = None, log=print) -> list[Run]:
    """Train ``cfg`` once per cell x size with the config's seed and data; one :class:`Run` each."""
    runs = []
    context = multiprocessing.get_context("spawn")
    for name, cell, size in plan(cfg.task, list(cells), list(sizes)):
        settings = {"cell": cell, **({"hidden_size": size} if size else {})}
        log(f"compare: training {name} ...")
        if isolate:
            # a fresh executor per run: a new process each time; a crashed worker raises
            # BrokenProcessPool here instead of hanging
            with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
                result, mem = pool.submit(_worker, cfg, settings, origins, threads).result()
        else:
            result, mem = measure(cfg, settings, origins, isolated=False)
        hidden = size or cfg.model.get("hidden_size", cfg.train.get("hidden_size"))
        runs.append(Run(name, cell, hidden, result, mem))
    return runs


def runs_to_dicts(runs: list[Run], task: str) -> list[dict]:
    metric = METRICS[task].name
    rows = []
    for run in runs:
        r = asdict(run.result)
        rows.append({"run": run.name, "cell": run.cell, "hidden_size": run.hidden_size,
                     metric: r["metric"], "baseline": r["baseline"], f"baseline_{metric}": r["baseline_metric"],
                     "train_s": r["train_s"], "latency_ms": r["latency_ms"], "params": r["params"],
                     "peak_mem_mb": run.peak_mem_mb, **r["extra"]})
    return rows
