"""Forecasting benchmark: rnnkit against seasonal naive, ETS and other baselines on real
series, by rolling-origin backtest (nothing from a scored window reaches training).

For each series the Forecaster is fitted on everything before the first origin, then
forecasts every origin's window; the baselines see exactly the same history. Reports MASE
and 80% interval coverage and width per series and model, and writes
``benchmarks/out/forecast.json`` and ``benchmarks/out/forecast_<series>.png``.

    python benchmarks/forecast.py [--only weather,co2] [--seeds 1]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch: no spinning threads on a busy machine

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

import rnnkit  # noqa: E402
from rnnkit.data import datasets  # noqa: E402
from rnnkit.tasks.forecast.plots import plot_backtest  # noqa: E402

OUT = Path(__file__).parent / "out"

# name: (data set, columns, forecaster settings, backtest origins)
SETUPS = {
    "weather": ("seattle-weather", dict(time="date", target="temp_max"),
                dict(lookback=56, horizon=7), 20),
    "stocks": ("stocks", dict(time="date", target="price", id="symbol"),
               dict(lookback=24, horizon=6, hidden_size=32, transform="log"), 4),
    "co2": ("co2", dict(time="date", target="co2"),
            dict(lookback=104, horizon=13, fill="interpolate"), 8),
    "airline": ("airline", dict(time="month", target="passengers"),
                dict(lookback=24, horizon=12, hidden_size=32, transform="log"), 2),
}


def run_one(name: str, seed: int) -> dict:
    dataset, columns, settings, origins = SETUPS[name]
    df = datasets.load(dataset)
    f = rnnkit.Forecaster(cell="lstm", seed=seed, **settings)
    start = time.perf_counter()
    result = f.backtest(df, origins=origins, **columns)
    seconds = time.perf_counter() - start
    plot_backtest(result, OUT / f"forecast_{name}.png", context=3 * settings["horizon"],
                  title=f"{name}: {origins} origins x {settings['horizon']} steps")
    table = result.table
    return {"table": table.to_dict(orient="index"), "seconds": seconds,
            "epochs": len(f.history_.rows), "windows": len(result.pairs), "settings": settings}


def summarize(results: dict) -> pd.DataFrame:
    rows = []
    for name, runs in results.items():
        tables = [r["table"] for r in runs]
        mean = lambda model, col: float(np.mean([t[model][col] for t in tables]))  # noqa: E731
        rows.append({"series": name, "rnnkit MASE": mean("rnnkit", "MASE"),
                     "seasonal naive MASE": mean("seasonal_naive", "MASE"),
                     "ETS MASE": mean("ets", "MASE"), "naive MASE": mean("naive", "MASE"),
                     "rnnkit coverage": mean("rnnkit", "coverage"),
                     "ETS coverage": mean("ets", "coverage"),
                     "rnnkit / ETS": mean("rnnkit", "MASE") / mean("ets", "MASE"),
                     "seconds": float(np.mean([r["seconds"] for r in runs]))})
    return pd.DataFrame(rows).set_index("series")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default=",".join(SETUPS))
    parser.add_argument("--seeds", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(2)
    OUT.mkdir(exist_ok=True)
    results = {}
    for name in args.only.split(","):
        results[name] = [run_one(name, seed) for seed in range(args.seeds)]
        print(f"{name}: {pd.DataFrame(results[name][0]['table']).T.round(3).to_string()}\n", flush=True)
    summary = summarize(results)
    beats = (summary["rnnkit MASE"] < summary["seasonal naive MASE"]).all()
    ratio = summary["rnnkit / ETS"].mean()
    print(summary.round(3).to_string())
    print(f"\nrnnkit beats seasonal naive on every series: {beats}; mean rnnkit/ETS MASE ratio "
          f"{ratio:.3f} (target <= 1.10); mean coverage {summary['rnnkit coverage'].mean():.3f} "
          "(target 0.75-0.85)")
    (OUT / "forecast.json").write_text(json.dumps({"results": results, "summary": summary.to_dict(orient="index"),
                                                   "torch": torch.__version__}, indent=1))


if __name__ == "__main__":
    main()
