"""``rnnkit train | evaluate | predict`` for task ``anomaly``: one regular series, a table
(``[data] path``) or a bundled data set (``dataset``, default ``yahoo``; its time, value and
label columns are the defaults of ``time``, ``target`` and ``label``).

``train`` fits on the first ``train_fraction`` of the rows (mostly normal data) and, when
there is a ``label`` column, scores the detector and the baselines on the rest only."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from rnnkit.cli.runs import check_data_keys, save_model
from rnnkit.cli.tables import print_table
from rnnkit.errors import ConfigError, DataError, problem

DATA_KEYS = ("dataset", "path", "time", "target", "label", "train_fraction")
TRAIN_FRACTION = 0.4  # share of the rows the detector trains on (the rest is scored)


def _frame(data: dict):
    """``(the rows sorted by time, time column, channel column(s), label column or None)``."""
    import rnnkit.tasks.anomaly  # noqa: F401  (registers the yahoo data set)
    from rnnkit.data import datasets
    from rnnkit.data.frames import check_columns, read_table

    if "path" in data:
        frame, time, target, label = read_table(data["path"]), "time", None, None
    else:
        info = datasets.info(data.get("dataset", "yahoo"))
        frame, time, target, label = info.loader(), info.time, list(info.targets), info.extra.get("labels")
    time, target = data.get("time", time), data.get("target", target)
    label = data.get("label", label)
    if target is None:
        raise ConfigError(problem("[data] target", expected="the channel column(s) of the series",
                                  got="none", fix=f'e.g. target = "value" (columns: {list(frame.columns)})'))
    check_columns(frame, [time], "time")
    return frame.sort_values(time, kind="stable").reset_index(drop=True), time, target, label


def _train_rows(data: dict, n: int) -> int:
    share = data.get("train_fraction", TRAIN_FRACTION)
    if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share < 1:
        raise ConfigError(problem("[data] train_fraction", expected="a number in (0, 1)", got=repr(share)))
    return int(n * share)


def train(cfg, out: Path, resume: bool) -> None:
    from rnnkit.tasks.anomaly import AnomalyDetector

    check_data_keys(cfg, DATA_KEYS)
    if resume:
        raise ConfigError(problem("rnnkit train --resume: task anomaly", expected="a task whose training "
                                  "resumes", got="anomaly (trains in a few minutes at most)",
                                  fix="run it again without --resume"))
    frame, time, target, label = _frame(cfg.data)
    n = _train_rows(cfg.data, len(frame))
    det = AnomalyDetector(**cfg.model, **cfg.train).fit(frame.iloc[:n], time=time, columns=target,
                                                        out_dir=out)
    if label is not None and label in frame.columns:
        table = det.evaluate(frame, labels=label, start=n).table
        print_table(table, f"Detection on rows {n}-{len(frame) - 1} (held out of training)",
                    highlight=table.index[0])
    else:
        found = det.detect(frame.iloc[n:]).ranges
        typer.echo(f"{len(found)} anomalies in rows {n}-{len(frame) - 1} (no label column to score them)")
    save_model(det, out)


def evaluate(est, model: Path, data: Path, json_out: bool, labels: str | None = None,
             start: int = 0) -> None:
    """Detection quality against a 0/1 label column (``--labels``, default ``label``)."""
    from rnnkit.data.frames import read_table

    frame = read_table(data)
    if labels is None:
        if "label" not in frame.columns:
            raise DataError(problem(f"rnnkit evaluate: {data}", expected="a 0/1 anomaly label column",
                                    got=f"columns {list(frame.columns)}", fix="name it with --labels COLUMN"))
        labels = "label"
    table = est.evaluate(frame, labels=labels, start=start).table
    if json_out:
        typer.echo(table.to_json(orient="index"))
    else:
        print_table(table, f"{model.name}: detection quality from row {start} on", highlight=table.index[0])


def predict(est, data: Path) -> None:
    """One JSON line per point: time, score, threshold, anomaly and each channel's share."""
    frame = est.predict(data)
    for record in json.loads(frame.to_json(orient="records", date_format="iso")):
        sys.stdout.write(json.dumps(record) + "\n")
