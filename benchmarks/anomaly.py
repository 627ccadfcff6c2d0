"""Anomaly detection benchmark: rnnkit's AnomalyDetector against the rolling z-score and
an isolation forest, and the stream's parity and speed.

Part 1 — quality. Five labelled series, every detector with its default settings:

* ``yahoo``: sktime's Yahoo-style series (1000 points, 7 labelled point anomalies);
* ``seattle-weather`` temp_max, ``sf-temps`` temp, ``co2`` (gaps interpolated with
  ``fill="interpolate"``) and ``airline`` passengers, each with five anomalies injected
  by :func:`rnnkit.tasks.anomaly.inject.inject` (spike, level shift, spike, drift,
  frozen stretch; positions seeded with ``seed=0``, listed in the JSON output).

Each detector fits on the first 40 % of the series (anomaly-free in every set) and scores
the rest; point precision / recall / F1, point-adjusted F1 and NAB (standard profile) are
computed on the scored 60 %. The detector's one size-dependent setting follows a fixed
rule: ``window = min(64, train_length // 4)``.

Part 2 — streaming. A detector fitted on sf-temps scores a 100,000-step series (sf-temps
repeated) three ways: ``detector.detect`` (batch), ``detector.stream().step`` per row,
and ``python -m rnnkit.cli.watch`` (``rnnkit watch``) on a CSV file. Reports the largest
score difference and flag agreement, stream steps per second per block of 10,000 steps,
and the median speed of a fresh stream's first 1,000 steps against 1,000 steps after
100,000, measured alternately so that both see the same machine load.

Writes ``benchmarks/out/anomaly.json`` and prints the tables.

    python benchmarks/anomaly.py [--part quality|stream|all] [--only yahoo,co2] [--set k=v]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from rnnkit.data import datasets
from rnnkit.data.frames import read_series
from rnnkit.tasks.anomaly import AnomalyDetector
from rnnkit.tasks.anomaly.inject import inject

OUT = Path(__file__).parent / "out"
BASELINE_ROWS = ["rolling_zscore", "isolation_forest"]
BLOCK = 10_000  # stream speed is also reported per block of this many steps
TRAIN_SHARE = 0.4
SERIES = {  # name: (data set, time, column, freq, fill)
    "yahoo": ("yahoo", "timestamp", "value", None, None),
    "seattle-weather": ("seattle-weather", "date", "temp_max", None, None),
    "sf-temps": ("sf-temps", "date", "temp", "h", "interpolate"),  # one DST gap
    "co2": ("co2", "date", "co2", None, "interpolate"),  # 59 missing weeks
    "airline": ("airline", "month", "passengers", None, None),
}


def labelled_series(name: str):
    """``(frame with a 'label' column, time, column, fill, injections)``; the frame is
    regular and complete (gaps filled as the detector would) before anything is injected."""
    dataset, time_col, column, freq, fill = SERIES[name]
    frame = datasets.load(dataset)
    if name == "yahoo":
        return frame, time_col, column, fill, []
    series = read_series(frame, time=time_col, targets=[column], freq=freq, fill=fill)  # regular
    start = int(len(series.values[0]) * TRAIN_SHARE)
    values, labels, done = inject(series.values[0][:, 0], start=start, seed=0)
    out = pd.DataFrame({time_col: series.times[0], column: values, "label": labels})
    return out, time_col, column, fill, [asdict(d) for d in done]


def quality(names, settings: dict, methods=("predict", "autoencoder"), seeds=(0,)) -> dict:
    """Per series: the detector (each method, mean over ``seeds``) and the baselines."""
    results = {}
    for name in names:
        frame, time_col, column, fill, injections = labelled_series(name)
        start = int(len(frame) * TRAIN_SHARE)
        kw = dict(window=min(64, start // 4), fill=fill)
        rows, runs, baselines = {}, {}, None
        for method in methods:
            per_seed = []
            for seed in seeds:
                began = time.perf_counter()
                det = AnomalyDetector(**{**kw, "method": method, "seed": seed, **settings})
                det.fit(frame.iloc[:start], time=time_col, columns=column)
                seconds = time.perf_counter() - began
                ev = det.evaluate(frame, labels="label", start=start)
                baselines = ev.table.loc[BASELINE_ROWS]
                per_seed.append({"seed": seed, "fit_seconds": round(seconds, 1),
                                 "epochs": len(det.history_.rows),
                                 **ev.table.loc["rnnkit"].round(4).to_dict()})
            runs[method] = per_seed
            rows[f"rnnkit ({method})"] = pd.DataFrame(per_seed)[baselines.columns].mean()
        table = pd.concat([pd.DataFrame(rows).T, baselines])
        table.index.name = "detector"
        fits = ", ".join(f"{m} {np.mean([r['fit_seconds'] for r in v]):.0f} s" for m, v in runs.items())
        print(f"\n{name}: {len(frame)} points, scored from {start}; mean fit {fits}; "
              f"rnnkit rows: mean over seeds {list(seeds)}")
        print(table.round(3).to_string())
        results[name] = {"points": len(frame), "start": start, "injected": injections,
                         "runs": runs, "table": table.round(4).to_dict(orient="index")}
    return results


def average(results: dict) -> pd.DataFrame:
    tables = [pd.DataFrame(r["table"]).T for r in results.values()]
    return sum(tables) / len(tables)


def long_series(n: int) -> pd.DataFrame:
    """``n`` steps of sf-temps' temperatures repeated, hourly from 2010-01-01."""
    temps = np.resize(datasets.load("sf-temps")["temp"].to_numpy(), n)
    return pd.DataFrame({"date": pd.date_range("2010-01-01", periods=n, freq="h"), "temp": temps})


def stream_rate(det, values: np.ndarray):
    """Feed ``values`` to a fresh stream: ``(scores, flags, stream, rates)`` with steps per second
    overall and per block of 10,000 steps, by wall clock and by this process's CPU time
    (the CPU rate is immune to other jobs on a shared machine)."""
    stream = det.stream()
    scores, flags = np.empty(len(values)), np.zeros(len(values), dtype=bool)
    marks = [(time.perf_counter(), time.process_time())]
    for i, v in enumerate(values):
        r = stream.step(float(v))
        scores[i], flags[i] = r.score, r.anomaly
        if (i + 1) % BLOCK == 0 or i + 1 == len(values):
            marks.append((time.perf_counter(), time.process_time()))

    def rate(a, b, n, k):
        return round(n / (b[k] - a[k]))

    n_last = len(values) - BLOCK * (len(marks) - 2)
    sizes = [BLOCK] * (len(marks) - 2) + [n_last]
    return scores, flags, stream, {
        "wall": rate(marks[0], marks[-1], len(values), 0),
        "cpu": rate(marks[0], marks[-1], len(values), 1),
        "wall_blocks": [rate(a, b, n, 0) for a, b, n in zip(marks, marks[1:], sizes)],
        "cpu_blocks": [rate(a, b, n, 1) for a, b, n in zip(marks, marks[1:], sizes)]}


def interleaved_rates(det, old, values: np.ndarray, reps: int = 11) -> tuple[int, int]:
    """Median CPU steps per second over ``reps`` alternating runs of 1,000 steps: a fresh
    stream's first 1,000 and the next 1,000 of ``old`` (already ``len(values)`` steps in).
    Alternating exposes both to the same machine load, so a difference is the stream's."""
    early, late = [], []
    for rep in range(reps):
        for stream, chunk, out in ((det.stream(), values[:1000], early),
                                   (old, values[rep * 1000:(rep + 1) * 1000], late)):
            began = time.process_time()
            for v in chunk:
                stream.step(float(v))
            out.append(1000 / (time.process_time() - began))
    return int(np.median(early)), int(np.median(late))


def streaming(n: int, settings: dict) -> dict:
    long = long_series(n)
    det = AnomalyDetector(**settings).fit(long.iloc[:4000], time="date", columns="temp")
    values = long["temp"].to_numpy()
    began = time.perf_counter()
    points = det.detect(long).points
    batch_s = time.perf_counter() - began
    batch, batch_flags = points["score"].to_numpy(), points["anomaly"].to_numpy()
    scores, flags, old, full = stream_rate(det, values)
    early, late = interleaved_rates(det, old, values)
    out = {"steps": n, "batch_seconds": round(batch_s, 2),
           "stream_steps_per_s_all": {"wall": full["wall"], "cpu": full["cpu"]},
           "stream_steps_per_s_per_10k_block": {"wall": full["wall_blocks"], "cpu": full["cpu_blocks"]},
           "steps_per_s_first_1k_fresh_stream": early, "steps_per_s_1k_after_100k": late,
           "stream_max_abs_score_diff": float(np.nanmax(np.abs(scores - batch))),
           "stream_unscored_rows_agree": bool((np.isnan(scores) == np.isnan(batch)).all()),
           "stream_flags_equal": bool((flags == batch_flags).all()),
           "anomalies_flagged": int(batch_flags.sum()),
           **watch_parity(det, long, batch, batch_flags)}
    print("\nstreaming:", json.dumps(out, indent=1))
    return out


def watch_parity(det, long: pd.DataFrame, batch: np.ndarray, batch_flags: np.ndarray) -> dict:
    """``rnnkit watch --every-step`` on a CSV file of ``long``, in a subprocess."""
    with tempfile.TemporaryDirectory() as tmp:
        model = det.save(Path(tmp) / "m.rnnkit")
        csv = Path(tmp) / "in.csv"
        long.to_csv(csv, index=False)
        began = time.perf_counter()
        run = subprocess.run([sys.executable, "-m", "rnnkit.cli.watch", str(model), "--input", str(csv),
                              "--every-step"], capture_output=True, text=True, check=True,
                             env={**os.environ, "OMP_NUM_THREADS": "1"})
        seconds = time.perf_counter() - began
    events = [json.loads(line) for line in run.stdout.splitlines()]
    scores = np.array([np.nan if e["score"] is None else e["score"] for e in events])
    flags = np.array([e["anomaly"] for e in events])
    return {"watch_seconds": round(seconds, 1), "watch_events": len(events),
            "watch_max_abs_score_diff": float(np.nanmax(np.abs(scores - batch))),
            "watch_flags_equal": bool((flags == batch_flags).all())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", default="all", choices=["quality", "stream", "all"])
    parser.add_argument("--only", default=",".join(SERIES))
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--methods", default="predict,autoencoder")
    parser.add_argument("--seeds", default="0,1,2", help="training seeds; rnnkit rows are their mean")
    parser.add_argument("--set", action="append", default=[], help="detector setting k=v")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: small models "
                        "gain nothing from more, and a shared machine makes more much slower)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    settings = {k: json.loads(v) for k, v in (s.split("=", 1) for s in args.set)}
    report = {"settings": settings, "machine": f"{platform.processor() or platform.machine()}, "
              f"{os.cpu_count()} CPUs, torch {torch.__version__}, {torch.get_num_threads()} threads"}
    if args.part in ("quality", "all"):
        report["quality"] = quality(args.only.split(","), settings, args.methods.split(","),
                                    [int(x) for x in args.seeds.split(",")])
        mean = average(report["quality"])
        print("\nmean over the series:\n" + mean.round(3).to_string())
        report["mean"] = mean.round(4).to_dict(orient="index")
    if args.part in ("stream", "all"):
        report["streaming"] = streaming(args.steps, settings)
    OUT.mkdir(exist_ok=True)
    path = OUT / "anomaly.json"
    old = json.loads(path.read_text()) if path.exists() and args.part != "all" else {}
    old.update(report)
    path.write_text(json.dumps(old, indent=1, default=str))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
