"""``rnnkit train | evaluate | predict`` for task ``classify-series``: panels as long tables.

A panel table has one row per step: a series id column, a label column, optionally a
time column (order within a series) and a ``split`` column (``train`` / ``test``), every
other column a channel — what ``rnnkit datasets export japanese-vowels`` writes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rnnkit.cli.scores import show_scores
from rnnkit.cli.tables import print_table

PANEL = "a panel table (one row per step, a column per channel)"


def _columns(data: dict) -> dict:
    return dict(id=data.get("id", "series"), label=data.get("label", "label"),
                time=data.get("time", "step"))


def _frame(data: dict):
    from rnnkit.data import datasets
    from rnnkit.data.frames import read_table

    return read_table(data["path"]) if "path" in data else datasets.load(data.get("dataset", "japanese-vowels"))


DATA_KEYS = ("dataset", "path", "id", "label", "time", "limit")


def train(cfg, out: Path, resume: bool) -> None:
    from rnnkit.cli.runs import check_data_keys, limit, save_model, subset
    from rnnkit.data.panels import panel_from_frame
    from rnnkit.tasks.classify_series import SequenceClassifier

    check_data_keys(cfg, DATA_KEYS)
    frame, cols, n = _frame(cfg.data), _columns(cfg.data), limit(cfg.data)
    split = frame["split"] if "split" in frame.columns else None
    train_rows = frame[split == "train"] if split is not None else frame
    X, y = subset(panel_from_frame(train_rows, **cols), n)
    clf = SequenceClassifier(**cfg.model, **cfg.train).fit(X, y, out_dir=out, resume=resume)
    if split is not None and (split == "test").any():
        X, y = subset(panel_from_frame(frame[split == "test"], **cols), n)
        title = f"Test split ({len(X)} series)"
    else:
        title = f"Training data ({len(X)} series, in-sample)"
    print_table(clf.evaluate(X, y).table, title, highlight="rnnkit")
    save_model(clf, out)


def evaluate(est, model: Path, data: Path, json_out: bool = False, *, split: str | None = None,
             encoding: str = "utf-8") -> None:
    """Score a panel table: its ``split == test`` rows when it has a split column with test
    rows (``split="all"``: every row; another value: that split)."""
    from rnnkit.data.frames import read_table, require_columns, select_split
    from rnnkit.data.panels import panel_from_frame
    from rnnkit.tasks.common.labels import like_classes

    frame = read_table(data, encoding)
    require_columns(frame, ["series", "step", "label"], PANEL, data)
    frame, note = select_split(frame, split, f"rnnkit evaluate {data}")
    X, y = panel_from_frame(frame)
    table = est.evaluate(X, like_classes(y.tolist(), est.classes_)).table
    show_scores(table, f"{model.name}: {len(X)} series", note, json_out)


def predict(est, data: Path, *, encoding: str = "utf-8") -> None:
    """One JSON line per series of a panel table: its id, label and class probabilities."""
    from rnnkit.data.frames import read_table, require_columns
    from rnnkit.data.panels import panel_from_frame

    frame = read_table(data, encoding)
    require_columns(frame, ["series", "step"], PANEL, data)
    X, _ = panel_from_frame(frame, label="label" if "label" in frame.columns else None)
    ids = list(dict.fromkeys(frame["series"]))
    proba = est.predict_proba(X)
    for key, p in zip(ids, proba):
        record = {"series": key, "label": est.classes_[p.argmax()].item(),
                  "proba": {str(c): float(v) for c, v in zip(est.classes_.tolist(), p)}}
        sys.stdout.write(json.dumps(record, default=str) + "\n")
