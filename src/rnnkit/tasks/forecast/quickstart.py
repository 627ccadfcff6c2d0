"""The quickstart recipe: forecast Seattle's daily maximum temperature a week ahead.

1. load the bundled Seattle weather data (1461 days, 2012-2015);
2. backtest: fit an LSTM forecaster on everything before the last ``origins`` weeks, then
   forecast each of those weeks and score it against naive, seasonal-naive, drift and ETS;
3. write the plot and the model file, and return the table;
4. ``next_commands``: what to run next, in an order that works as written.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from rnnkit.data import datasets
from rnnkit.tasks.forecast.estimator import Forecaster
from rnnkit.tasks.forecast.plots import plot_backtest


@dataclass
class QuickstartResult:
    table: pd.DataFrame
    model_path: Path
    plot_path: Path
    forecast: pd.DataFrame
    seconds: float
    epochs: int


def run(out_dir: str | Path = "quickstart-out", *, origins: int = 20, epochs: int = 40,
        cell: str = "lstm", seed: int = 0, progress: str = "auto") -> QuickstartResult:
    start = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    df = datasets.load("seattle-weather")
    f = Forecaster(cell=cell, lookback=56, horizon=7, epochs=epochs, seed=seed, progress=progress)
    result = f.backtest(df, time="date", target="temp_max", origins=origins)
    plot = plot_backtest(result, out / "backtest.png", context=90,
                         title=f"Seattle temp_max: {origins} weekly forecasts, {cell.upper()} vs seasonal naive")
    model_path = f.save(out / "weather.rnnkit")
    return QuickstartResult(result.table, model_path, plot, f.predict(df),
                            time.perf_counter() - start, len(f.history_.rows))


def next_commands(model_path: str | Path, rnnkit: str = "rnnkit") -> list[tuple[str, str]]:
    """The commands to try after the quickstart, each with a comment, in an order that works
    as written from the folder the quickstart ran in: the data first (predict and evaluate
    read it), the server last (it runs until Ctrl-C).

    ``rnnkit`` is how the command is typed: ``"rnnkit"`` in an activated environment,
    ``"./dev rnnkit"`` through the repository's dev script.
    """
    model = shlex.quote(str(model_path))
    return [
        (f"{rnnkit} datasets export seattle-weather --out weather.csv", "the data as CSV"),
        (f"{rnnkit} predict {model} weather.csv", "the next 7 days"),
        (f"{rnnkit} evaluate {model} weather.csv", "beside the baselines"),
        (f"{rnnkit} inspect {model} weather.csv", "gates and states: inspect/"),
        (f"{rnnkit} export {model} --format onnx", "an ONNX file"),
        (f"{rnnkit} serve {model}", "localhost:8000/docs; Ctrl-C stops"),
    ]
