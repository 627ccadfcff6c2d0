"""``rnnkit train | evaluate | predict`` for task ``forecast``: a table of one or more series
(``[data] path``, CSV or Parquet) or a bundled data set (``dataset``, default
``seattle-weather``; its time, target and id columns are the defaults of those keys).

``train`` is honest: it fits on all but the last ``origins`` windows of each series, as
:meth:`~rnnkit.tasks.forecast.Forecaster.backtest` does, and scores only those windows."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from rnnkit.cli.runs import check_data_keys, save_model
from rnnkit.cli.tables import print_table

DATA_KEYS = ("dataset", "path", "time", "target", "id", "past_covariates", "static_covariates")
ORIGINS = 20  # backtest windows scored by train and evaluate (as quickstart)


def _source(data: dict) -> tuple[object, dict]:
    """``(a path or DataFrame, the column keywords of fit)``; a data set fills in its columns."""
    from rnnkit.data import datasets

    columns = {k: v for k, v in data.items() if k not in ("dataset", "path")}
    if "path" in data:
        return data["path"], columns
    info = datasets.info(data.get("dataset", "seattle-weather"))
    defaults = {"time": info.time, "target": info.targets[0] if len(info.targets) == 1 else list(info.targets),
                "id": info.id}
    return info.loader(), {**{k: v for k, v in defaults.items() if v is not None}, **columns}


def train(cfg, out: Path, resume: bool, origins: int = ORIGINS) -> None:
    from rnnkit.tasks.forecast import Forecaster

    check_data_keys(cfg, DATA_KEYS)
    source, columns = _source(cfg.data)
    forecaster = Forecaster(**cfg.model, **cfg.train)
    result = forecaster.backtest(source, origins=origins, out_dir=out, resume=resume, **columns)
    horizon = forecaster.config.horizon
    print_table(result.table, f"Backtest: the last {origins} windows of {horizon} steps, held out of "
                "training", highlight="rnnkit")
    typer.echo(chosen_settings(forecaster))
    save_model(forecaster, out)
    typer.echo(f"(trained on all but the last {origins * horizon} rows of each series)")


def chosen_settings(forecaster) -> str:
    """One line per automatic choice of a fitted forecaster (what ``settings_`` reports)."""
    s = forecaster.settings_
    guard = s["guard"]
    uses = ", ".join(f"{n} {u}" for u, n in guard["uses"].items()) or "none scored"
    lost, unchecked = guard["network_lost_on"], guard.get("unvalidated", [])
    lines = [f"season {s['season']} (freq {s['freq']}), lookback {s['lookback']} "
             f"(members {s['lookbacks']}), transform {s['transform']}, base lag {s['base_lag']}",
             f"ensemble {s['ensemble']}, optimizer steps {s['max_steps'] or 'by epochs'}",
             f"guard {guard['mode']}: {uses} series"
             + (f"; the network lost to a baseline on validation for {len(lost)}: {_named(lost)}"
                if lost else "")
             + (f"; too short to validate: {_named(unchecked)}" if unchecked else "")]
    return "chosen: " + "\n        ".join(lines)


def evaluate(est, model: Path, data: Path, json_out: bool, origins: int = ORIGINS) -> None:
    result = est.evaluate(data, origins=origins)
    if json_out:
        typer.echo(result.table.to_json(orient="index"))
    else:
        print_table(result.table, f"{model.name}: backtest over {origins} origins", highlight="rnnkit")


def predict(est, data: Path) -> None:
    """One JSON line per series and step ahead, from the end of each series."""
    frame = est.predict(data)
    for record in json.loads(frame.to_json(orient="records", date_format="iso")):
        sys.stdout.write(json.dumps(record) + "\n")


def _named(keys: list[str]) -> str:
    """Up to five series keys for a line; a single series' key ``"None"`` reads "the series"."""
    return ", ".join(k if k != "None" else "the series" for k in keys[:5]) + (" ..." if len(keys) > 5 else "")
