"""``rnnkit train | evaluate | predict``: configs and model files on the command line.

Each task has a command module, ``rnnkit.cli.<task>``, with the same functions::

    train(cfg, out, resume, **options)          # a RunConfig -> OUT/model.rnnkit
    evaluate(est, model, data, json_out, **options)
    predict(est, data, **options)               # JSON lines on stdout (not every task)

:data:`COMMANDS` maps the task name (``[task] name`` of a config, ``task_name`` of a model)
to its module. A task-specific option (``--origins``, ``--labels``, ``--encoding`` …) goes to
the function only when the user gives it; a function that has no such parameter refuses it
with one line, so an option never silently does nothing.
"""

from __future__ import annotations

import inspect
import time
from pathlib import Path
from types import ModuleType

import typer

from rnnkit.cli import (
    anomaly as anomaly_cmd,
    asr as asr_cmd,
    chat_model as chat_model_cmd,
    classify_series as classify_series_cmd,
    classify_text as classify_text_cmd,
    forecast as forecast_cmd,
    lm as lm_cmd,
    seq2seq as seq2seq_cmd,
)
from rnnkit.cli.runs import announced
from rnnkit.config_file import read_config
from rnnkit.errors import ConfigError, problem, unknown_name

COMMANDS: dict[str, ModuleType] = {
    "forecast": forecast_cmd,
    "anomaly": anomaly_cmd,
    "classify-series": classify_series_cmd,
    "classify-text": classify_text_cmd,
    "lm": lm_cmd,
    "seq2seq": seq2seq_cmd,
    "asr": asr_cmd,
    "chat": chat_model_cmd,
}
TASKS = tuple(COMMANDS)  # every task rnnkit trains, evaluates and predicts with
INSTEAD_OF_PREDICT = {  # tasks whose outputs come from a verb of their own
    "lm": "a language model generates text: rnnkit generate MODEL --prompt TEXT",
    "asr": "a speech recognizer transcribes WAV files: rnnkit transcribe MODEL a.wav",
}


def command(task: str, verb: str):
    """The ``verb`` function (train, evaluate, predict) of ``task``'s command module."""
    if task not in COMMANDS:
        raise ConfigError(unknown_name("task", task, TASKS))
    fn = getattr(COMMANDS[task], verb, None)
    if fn is None:
        raise ConfigError(f"{verb}: {INSTEAD_OF_PREDICT.get(task, f'task {task!r} has no {verb}')}")
    return fn


def call(fn, verb: str, task: str, *args, **options):
    """``fn(*args, **options)`` with only the options given (not None); one the function does
    not take is refused, naming the task."""
    given = {k: v for k, v in options.items() if v is not None}
    takes = inspect.signature(fn).parameters
    for name in given:
        if name not in takes:
            flag = "--" + name.replace("_", "-")
            used = [f"--{p.replace('_', '-')}" for p in list(takes)[len(args):]]
            raise ConfigError(problem(f"rnnkit {verb}: {flag}", expected=f"an option of task {task!r} "
                                      f"({', '.join(used) or 'none'})", got=f"{flag} {given[name]}",
                                      fix=f"leave {flag} out"))
    return fn(*args, **given)


TOML_HELP = "TOML config with \\[task] \\[data] \\[model] \\[train] tables (see examples/)."


def train(config: Path = typer.Argument(..., help=TOML_HELP),
          set_: list[str] = typer.Option([], "--set", help="Override a key: TABLE.KEY=VALUE "
                                         "(e.g. train.epochs=3, data.limit=500)."),
          out: Path = typer.Option(Path("runs/latest"), "--out", help="Run folder (checkpoints, "
                                   "metrics.csv, curves, model file)."),
          resume: bool = typer.Option(False, "--resume", help="Continue a killed run from its checkpoint."),
          origins: int = typer.Option(None, help="Forecast: backtest windows held out of training "
                                      "and scored (default 20).")) -> None:
    """Train the task a config describes (forecast, anomaly, classify-series, classify-text,
    lm, seq2seq, asr, chat), score it on data held out of training where there is some, and write
    OUT/model.rnnkit. Progress: a bar on a terminal, a line per epoch otherwise
    (--set train.progress=none for silence).

    Example: rnnkit train examples/weather.toml --set model.cell=gru --out runs/gru
    """
    cfg = read_config(config, set_)
    fn = command(cfg.task, "train")
    started = time.perf_counter()
    mode = f" ({cfg.mode})" if cfg.mode else ""
    typer.echo(f"train: task {cfg.task}{mode} from {config}, writing {out}", err=True)
    call(fn, "train", cfg.task, cfg, out, resume, origins=origins)
    typer.echo(f"train: done in {time.perf_counter() - started:.0f} s", err=True)


def evaluate(model: Path = typer.Argument(..., help="Model file (.rnnkit)."),
             data: Path = typer.Argument(..., help="Data of the model's task: a table with the "
                                         "training columns; pairs for seq2seq and chat (or "
                                         "'chitchat'); a text file for lm; a manifest for asr."),
             origins: int = typer.Option(None, help="Forecast: backtest windows at the end of each "
                                         "series (default 20)."),
             json_out: bool = typer.Option(False, "--json", help="Print the table as JSON."),
             labels: str = typer.Option(None, "--labels", help="Anomaly: the 0/1 label column "
                                        "(default 'label')."),
             start: int = typer.Option(None, "--start", help="Anomaly: score rows from this index on."),
             split: str = typer.Option(None, "--split", help="A table with a split column: the rows "
                                       "to score (default: the test rows when there are any; 'all': "
                                       "every row)."),
             encoding: str = typer.Option(None, "--encoding", help="Text tasks: the file's encoding "
                                          "(default utf-8).")) -> None:
    """Score a model on data, side by side with the task's baselines (forecast: backtest
    MASE, MAE; anomaly: F1, NAB; classify-series and classify-text: accuracy, F1; lm: bits
    per character; seq2seq: BLEU, chrF or a chat model's perplexity; asr: WER, CER; chat:
    recall@1/2/5 of 10 candidates beside TF-IDF and random).

    Example: rnnkit evaluate quickstart-out/weather.rnnkit weather.csv --origins 10
    """
    import rnnkit

    est = rnnkit.load(model)
    fn = command(est.task_name, "evaluate")
    with announced(f"evaluate: {model.name} (task {est.task_name}) on {data}"):
        call(fn, "evaluate", est.task_name, est, model, data, json_out, origins=origins, labels=labels,
             start=start, split=split, encoding=encoding)


def predict(model: Path = typer.Argument(..., help="Model file (.rnnkit)."),
            data: Path = typer.Argument(..., help="Input of the model's task: a table with the "
                                        "training columns; for seq2seq and chat a text file, a line "
                                        "per input."),
            encoding: str = typer.Option(None, "--encoding", help="Text tasks: the file's encoding "
                                         "(default utf-8).")) -> None:
    """Predict with a model file; JSON lines on stdout. Forecast: a line per series and step
    ahead; anomaly: a line per point (score, threshold, anomaly); classify-series and
    classify-text: a label and probabilities per series or text; seq2seq: the translation
    or reply of each input line; chat: the best reply of the bank and its score per line
    (earlier turns joined by " <sep> " before the message). (lm: rnnkit generate; asr:
    rnnkit transcribe.)

    Example: rnnkit predict quickstart-out/weather.rnnkit weather.csv > forecast.jsonl
    """
    import rnnkit

    est = rnnkit.load(model)
    fn = command(est.task_name, "predict")
    with announced(f"predict: {model.name} (task {est.task_name}) on {data}"):
        call(fn, "predict", est.task_name, est, data, encoding=encoding)


def register(app: typer.Typer) -> None:
    app.command("train")(train)
    app.command("evaluate")(evaluate)
    app.command("predict")(predict)
