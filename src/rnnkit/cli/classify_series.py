"""``rnnkit train | evaluate | predict`` for task ``classify-series``: panels as long tables.

A panel table has one row per step: a series id column, a label column, optionally a
time column (order within a series) and a ``split`` column (``train`` / ``test``), every
other column a channel — what ``rnnkit datasets export japanese-vowels`` writes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from rnnkit.cli.tables import print_table


def _columns(data: dict) -> dict:
    return dict(id=data.get("id", "series"), label=data.get("label", "label"),
                time=data.get("time", "step"))


def _frame(data: dict):
    from rnnkit.data import datasets
    from rnnkit.data.frames import read_table

    return read_table(data["path"]) if "path" in data else datasets.load(data.get("dataset", "japanese-vowels"))


def train(cfg, out: Path, resume: bool) -> None:
    from rnnkit.data.panels import panel_from_frame
    from rnnkit.tasks.classify_series import SequenceClassifier

    frame, cols = _frame(cfg.data), _columns(cfg.data)
    split = frame["split"] if "split" in frame.columns else None
    train_rows = frame[split == "train"] if split is not None else frame
    X, y = panel_from_frame(train_rows, **cols)
    clf = SequenceClassifier(**cfg.model, **cfg.train).fit(X, y, out_dir=out, resume=resume)
    if split is not None and (split == "test").any():
        X, y = panel_from_frame(frame[split == "test"], **cols)
        title = f"Test split ({len(X)} series)"
    else:
        title = f"Training data ({len(X)} series, in-sample)"
    print_table(clf.evaluate(X, y).table, title, highlight="rnnkit")
    typer.echo(f"model file: {clf.save(out / 'model.rnnkit')}")


def evaluate(est, model: Path, data: Path, json_out: bool) -> None:
    from rnnkit.data.frames import read_table
    from rnnkit.data.panels import panel_from_frame

    X, y = panel_from_frame(read_table(data))
    if est.classes_.dtype.kind == "U":  # a CSV gives back numbers for labels such as "1"
        y = y.astype(str)
    table = est.evaluate(X, y).table
    if json_out:
        typer.echo(table.to_json(orient="index"))
    else:
        print_table(table, f"{model.name}: {len(X)} series", highlight="rnnkit")


def predict(est, data: Path) -> None:
    from rnnkit.data.frames import read_table
    from rnnkit.data.panels import panel_from_frame

    frame = read_table(data)
    X, _ = panel_from_frame(frame, label="label" if "label" in frame.columns else None)
    ids = list(dict.fromkeys(frame["series"]))
    proba = est.predict_proba(X)
    for key, p in zip(ids, proba):
        record = {"series": key, "label": est.classes_[p.argmax()].item(),
                  "proba": {str(c): float(v) for c, v in zip(est.classes_.tolist(), p)}}
        sys.stdout.write(json.dumps(record, default=str) + "\n")
