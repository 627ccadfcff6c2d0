"""``rnnkit train | evaluate | predict``: configs and model files on the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from rnnkit.cli import asr as asr_cmd, classify_series as classify_cmd, classify_text as classify_text_cmd, lm as lm_cmd
from rnnkit.cli.tables import print_table
from rnnkit.config_file import read_config
from rnnkit.errors import ConfigError, unknown_name

TASKS = ("forecast", "classify-series", "classify-text", "lm", "asr")


def train(config: Path = typer.Argument(..., help="TOML config with [task] [data] [model] [train]."),
          set_: list[str] = typer.Option([], "--set", help="Override a key: TABLE.KEY=VALUE."),
          out: Path = typer.Option(Path("runs/latest"), "--out", help="Run folder (checkpoints, "
                                   "metrics.csv, curves, model file)."),
          resume: bool = typer.Option(False, "--resume", help="Continue a killed run from its checkpoint."),
          origins: int = typer.Option(5, help="Backtest origins scored after training.")) -> None:
    """Train the task a config describes, backtest it and write OUT/model.rnnkit.

    Example: rnnkit train examples/weather.toml --set model.cell=gru --out runs/gru
    """
    from rnnkit.data import datasets
    from rnnkit.tasks.forecast import Forecaster

    cfg = read_config(config, set_)
    if cfg.task not in TASKS:
        raise ConfigError(unknown_name("task", cfg.task, TASKS))
    if cfg.task == "classify-series":
        return classify_cmd.train(cfg, out, resume)
    if cfg.task == "classify-text":
        return classify_text_cmd.train(cfg, out, resume)
    if cfg.task == "lm":
        return lm_cmd.train(cfg, out, resume)
    if cfg.task == "asr":
        return asr_cmd.train(cfg, out, resume)
    data = dict(cfg.data)
    source = data.pop("path", None) or datasets.load(data.pop("dataset", "seattle-weather"))
    data.pop("dataset", None)
    forecaster = Forecaster(**cfg.model, **cfg.train)
    forecaster.fit(source, out_dir=out, resume=resume, **data)
    result = forecaster.evaluate(source, origins=origins)
    print_table(result.table, f"Backtest, last {origins} windows (in-sample for the model)", highlight="rnnkit")
    path = forecaster.save(out / "model.rnnkit")
    typer.echo(f"model file: {path}")


def evaluate(model: Path = typer.Argument(..., help="Model file (.rnnkit)."),
             data: Path = typer.Argument(..., help="CSV or Parquet with the columns used in training."),
             origins: int = typer.Option(5, help="Backtest origins at the end of each series."),
             json_out: bool = typer.Option(False, "--json", help="Print the table as JSON."),
             labels: str = typer.Option(None, "--labels", help="Anomaly models: the 0/1 label column."),
             start: int = typer.Option(0, "--start", help="Anomaly models: score rows from this index on.")) -> None:
    """Score a model on data, side by side with the task's baselines.

    Example: rnnkit evaluate quickstart-out/weather.rnnkit weather.csv --origins 10
    """
    import rnnkit

    est = rnnkit.load(model)
    if est.task_name == "classify-series":
        return classify_cmd.evaluate(est, model, data, json_out)
    if est.task_name == "classify-text":
        return classify_text_cmd.evaluate(est, model, data, json_out)
    if est.task_name == "lm":
        return lm_cmd.evaluate(est, model, data, json_out)
    if est.task_name == "asr":
        return asr_cmd.evaluate(est, model, data, json_out)
    if est.task_name == "anomaly":
        if labels is None:
            raise ConfigError("evaluate: an anomaly model needs --labels COLUMN (the 0/1 anomaly labels)")
        table = est.evaluate(data, labels=labels, start=start).table
        if json_out:
            typer.echo(table.to_json(orient="index"))
        else:
            print_table(table, f"{model.name}: detection quality", highlight=table.index[0])
        return None
    result = est.evaluate(data, origins=origins)
    if json_out:
        typer.echo(result.table.to_json(orient="index"))
    else:
        print_table(result.table, f"{model.name}: backtest over {origins} origins", highlight="rnnkit")


def predict(model: Path = typer.Argument(..., help="Model file (.rnnkit)."),
            data: Path = typer.Argument(..., help="CSV or Parquet with the history to forecast from.")) -> None:
    """Forecast from the end of each series; JSON lines out, one per step ahead.

    Example: rnnkit predict quickstart-out/weather.rnnkit weather.csv > forecast.jsonl
    """
    import rnnkit

    est = rnnkit.load(model)
    if est.task_name == "classify-series":
        return classify_cmd.predict(est, data)
    if est.task_name == "classify-text":
        return classify_text_cmd.predict(est, data)
    if est.task_name == "lm":
        raise ConfigError("predict: a language model generates text: rnnkit generate MODEL --prompt TEXT")
    if est.task_name == "asr":
        raise ConfigError("predict: a speech recognizer transcribes WAV files: rnnkit transcribe MODEL a.wav")
    frame = est.predict(data)
    for record in json.loads(frame.to_json(orient="records", date_format="iso")):
        sys.stdout.write(json.dumps(record) + "\n")


def register(app: typer.Typer) -> None:
    app.command("train")(train)
    app.command("evaluate")(evaluate)
    app.command("predict")(predict)
