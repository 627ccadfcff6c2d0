"""Measured trade-offs between cells and sizes (``rnnkit compare``): the same recipe per
cell, one table of metric vs baseline, training time, latency, parameters and memory."""

from rnnkit.compare.recipes import RunResult, run_recipe
from rnnkit.compare.report import recommend, table
from rnnkit.compare.runner import Run, compare_cells, runs_to_dicts

__all__ = ["Run", "RunResult", "compare_cells", "recommend", "run_recipe", "runs_to_dicts", "table"]
