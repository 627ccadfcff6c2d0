"""``rnnkit train | evaluate | predict`` for task ``classify-text``: a CSV with text and label
columns (optionally ``split`` = train/test), or the bundled fine-food reviews when the
config names no ``path``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from rnnkit.cli.tables import print_table


def _columns(d: dict) -> dict:
    return dict(text=d.get("text", "text"), label=d.get("label", "label"),
                label_sep=d.get("label_sep"), encoding=d.get("encoding", "utf-8"))


def train(cfg, out: Path, resume: bool) -> None:
    from rnnkit.data.text import read_text_table
    from rnnkit.tasks.classify_text import TextClassifier
    from rnnkit.tasks.classify_text.datasets import fine_food, texts_from_frame

    d, c = cfg.data, _columns(cfg.data)
    if "path" in d:
        frame = read_text_table(d["path"], c["encoding"])
        split = frame["split"] if "split" in frame.columns else None
        part = frame[split == "train"] if split is not None else frame
        X, y = texts_from_frame(part, c["text"], c["label"], c["label_sep"])
        test = None
        if split is not None and (split == "test").any():
            test = texts_from_frame(frame[split == "test"], c["text"], c["label"], c["label_sep"])
    else:
        (X, y), test = fine_food("train"), fine_food("test")
    clf = TextClassifier(**cfg.model, **cfg.train).fit(X, y, out_dir=out, resume=resume)
    Xe, ye = test if test else (X, y)
    title = "Test split" if test else "Training data (in-sample)"
    print_table(clf.evaluate(Xe, ye).table, f"{title} ({len(Xe)} texts)", highlight="rnnkit")
    typer.echo(f"model file: {clf.save(out / 'model.rnnkit')}")


def evaluate(est, model: Path, data: Path, json_out: bool) -> None:
    from rnnkit.tasks.classify_text.datasets import read_texts

    X, y = read_texts(data)
    table = est.evaluate(X, y).table
    if json_out:
        typer.echo(table.to_json(orient="index"))
    else:
        print_table(table, f"{model.name}: {len(X)} texts", highlight="rnnkit")


def predict(est, data: Path) -> None:
    from rnnkit.data.text import read_text_table

    frame = read_text_table(data)
    proba = est.predict_proba(frame["text"].tolist())
    classes = [k.item() if hasattr(k, "item") else k for k in est.classes_]
    for p, label in zip(proba, est.labels_from_proba(proba)):
        label = label if isinstance(label, list) else (label.item() if hasattr(label, "item") else label)
        sys.stdout.write(json.dumps({"label": label, "proba": {str(k): float(v) for k, v in zip(classes, p)}}) + "\n")
