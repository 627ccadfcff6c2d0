"""One run of a config's recipe: fit, score against the task's baseline, time it.

A *recipe* is a :class:`~rnnkit.config_file.RunConfig` plus setting overrides (``cell``,
``hidden_size``, ...). :func:`run_recipe` trains it the way the task is honestly scored and
returns plain numbers, so that ``rnnkit compare`` and ``rnnkit tune`` read the same ones:

* ``forecast``: :meth:`Forecaster.backtest` — fit on everything before the last
  ``origins`` windows, score those windows; the metric is MASE (lower is better) and the
  baseline is the best of the backtest's baselines on the same windows.
* ``classify-text``: fit on the train split, score the test split (or, without one, the
  last 20% of the texts); the metric is accuracy (higher is better), the baseline TF-IDF +
  logistic regression, macro-F1 alongside.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

import pandas as pd

from rnnkit.errors import ConfigError, unknown_name

QUIET = {"progress": "none"}  # each trial or run prints its own line; a config may set progress

TASKS = ("forecast", "classify-text")
HOLDOUT_SHARE = 0.2  # classify-text without a test split: the last share of the texts
LATENCY_CALLS = 7  # predict() calls timed after one warm-up; the median is reported


@dataclass
class Metric:
    name: str  # "MASE" or "accuracy"
    lower_is_better: bool


METRICS = {"forecast": Metric("MASE", True), "classify-text": Metric("accuracy", False)}


@dataclass
class RunResult:
    """Numbers from one run; ``extra`` holds secondary metrics (macro-F1, ...)."""

    metric: float
    baseline: str
    baseline_metric: float
    train_s: float
    latency_ms: float
    params: int
    extra: dict = field(default_factory=dict)


def check_task(task: str, what: str) -> None:
    if task not in TASKS:
        raise ConfigError(unknown_name(f"task for {what} (supported: {', '.join(TASKS)})", task, TASKS))


def forecast_data(cfg) -> tuple[pd.DataFrame, dict]:
    """The config's series as a frame, and the column arguments of ``fit``/``backtest``."""
    from rnnkit.data import datasets
    from rnnkit.data.frames import read_table

    data = dict(cfg.data)
    path, name = data.pop("path", None), data.pop("dataset", "seattle-weather")
    frame = read_table(path) if path else datasets.load(name)
    return frame, data


def history_before(frame: pd.DataFrame, time_col: str, id_col: str | None, cut: int) -> pd.DataFrame:
    """``frame`` without the last ``cut`` rows of each series (the same cut as ``backtest``)."""
    if cut <= 0:
        return frame
    if id_col is not None and id_col in frame.columns:
        ordered = frame.sort_values([id_col, time_col])
        return ordered[ordered.groupby(id_col).cumcount(ascending=False) >= cut]
    return frame.sort_values(time_col).iloc[:-cut]


def text_data(cfg) -> tuple[tuple[list, list], tuple[list, list]]:
    """``(train texts, labels), (test texts, labels)`` as ``rnnkit train`` reads them."""
    from rnnkit.data.text import read_text_table
    from rnnkit.tasks.classify_text.datasets import fine_food, texts_from_frame

    d = cfg.data
    if "path" not in d:
        return fine_food("train"), fine_food("test")
    cols = dict(text=d.get("text", "text"), label=d.get("label", "label"), label_sep=d.get("label_sep"))
    frame = read_text_table(d["path"], d.get("encoding", "utf-8"))
    if "split" in frame.columns and (frame["split"] == "test").any():
        return (texts_from_frame(frame[frame["split"] == "train"], **cols),
                texts_from_frame(frame[frame["split"] == "test"], **cols))
    X, y = texts_from_frame(frame, **cols)
    cut = len(X) - max(1, int(round(len(X) * HOLDOUT_SHARE)))
    return (X[:cut], y[:cut]), (X[cut:], y[cut:])


def median_ms(call) -> float:
    call()  # warm-up: first-call allocations and kernel builds are not latency
    times = []
    for _ in range(LATENCY_CALLS):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def n_params(est) -> int:
    return int(sum(p.numel() for p in est.model_.parameters()))


def run_forecast(cfg, settings: dict, origins: int, frame=None, columns=None,
                 latency: bool = True) -> tuple[RunResult, object]:
    from rnnkit.tasks.forecast import Forecaster

    if frame is None:
        frame, columns = forecast_data(cfg)
    est = Forecaster(**{**QUIET, **cfg.model, **cfg.train, **settings})
    time_col, id_col = columns.get("time"), columns.get("id")
    history = history_before(frame, time_col, id_col, est.config.horizon * origins)
    # 1. fit on the history only (timed), 2. score the held-out windows with the baselines
    started = time.perf_counter()
    est.fit(history, **columns)
    train_s = time.perf_counter() - started
    table = est.evaluate(frame, origins=origins).table
    base = table.drop(index="rnnkit")["MASE"].dropna()
    best = str(base.idxmin()) if len(base) else "-"
    # 3. latency: one forecast from the last lookback rows of one series
    one = frame if id_col is None else frame[frame[id_col] == frame[id_col].iloc[0]]
    tail = one.sort_values(time_col).iloc[-est.lookback_:]
    latency = median_ms(lambda: est.predict(tail)) if latency else float("nan")
    extra = {k: float(table.loc["rnnkit", k]) for k in ("MAE", "RMSE") if k in table.columns}
    result = RunResult(float(table.loc["rnnkit", "MASE"]), best,
                       float(base.min()) if len(base) else float("nan"), train_s, latency, n_params(est), extra)
    return result, est


def run_text(cfg, settings: dict, data=None, latency: bool = True) -> tuple[RunResult, object]:
    from rnnkit.tasks.classify_text import TextClassifier

    (X, y), (Xt, yt) = data if data is not None else text_data(cfg)
    est = TextClassifier(**{**QUIET, **cfg.model, **cfg.train, **settings})
    started = time.perf_counter()
    est.fit(X, y)
    train_s = time.perf_counter() - started
    table = est.evaluate(Xt, yt).table
    base = table.drop(index="rnnkit")["accuracy"].dropna()
    best = str(base.idxmax()) if len(base) else "-"
    sample = list(Xt[:32])
    latency = median_ms(lambda: est.predict(sample)) if latency else float("nan")
    extra = {"macro_f1": float(table.loc["rnnkit", "macro_f1"])}
    if len(base):
        extra["baseline_macro_f1"] = float(table.loc[best, "macro_f1"])
    result = RunResult(float(table.loc["rnnkit", "accuracy"]), best,
                       float(base.max()) if len(base) else float("nan"), train_s, latency, n_params(est), extra)
    return result, est


def run_recipe(cfg, settings: dict, origins: int = 5) -> tuple[RunResult, object]:
    """Train ``cfg`` with ``settings`` on top of its ``[model]``/``[train]`` tables, once."""
    check_task(cfg.task, "compare")
    if cfg.task == "forecast":
        return run_forecast(cfg, settings, origins)
    return run_text(cfg, settings)
