"""``rnnkit train | evaluate | predict`` for task ``classify-text``: a CSV with text and label
columns (optionally ``split`` = train/test), or the bundled fine-food reviews when the
config names no ``path``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rnnkit.cli.scores import show_scores
from rnnkit.cli.tables import print_table


def _columns(d: dict) -> dict:
    return dict(text=d.get("text", "text"), label=d.get("label", "label"),
                label_sep=d.get("label_sep"), encoding=d.get("encoding", "utf-8"))


DATA_KEYS = ("dataset", "path", "text", "label", "label_sep", "encoding", "limit")
DATASETS = ("fine-food",)


def _splits(d: dict, c: dict):
    """``((texts, labels), test pairs or None)`` of the config's CSV or bundled reviews."""
    from rnnkit.data.text import read_text_table
    from rnnkit.errors import ConfigError, unknown_name
    from rnnkit.tasks.classify_text.datasets import fine_food, texts_from_frame

    if "path" not in d:
        if d.get("dataset", DATASETS[0]) not in DATASETS:
            raise ConfigError(unknown_name("text data set", d["dataset"], DATASETS))
        return fine_food("train"), fine_food("test")
    frame = read_text_table(d["path"], c["encoding"])
    split = frame["split"] if "split" in frame.columns else None
    part = frame[split == "train"] if split is not None else frame
    test = None
    if split is not None and (split == "test").any():
        test = texts_from_frame(frame[split == "test"], c["text"], c["label"], c["label_sep"])
    return texts_from_frame(part, c["text"], c["label"], c["label_sep"]), test


def train(cfg, out: Path, resume: bool) -> None:
    from rnnkit.cli.runs import check_data_keys, limit, save_model, subset
    from rnnkit.tasks.classify_text import TextClassifier

    check_data_keys(cfg, DATA_KEYS)
    n = limit(cfg.data)
    data, test = _splits(cfg.data, _columns(cfg.data))
    (X, y), test = subset(data, n), subset(test, n)
    clf = TextClassifier(**cfg.model, **cfg.train).fit(X, y, out_dir=out, resume=resume)
    Xe, ye = test if test else (X, y)
    title = "Test split" if test else "Training data (in-sample)"
    print_table(clf.evaluate(Xe, ye).table, f"{title} ({len(Xe)} texts)", highlight="rnnkit")
    save_model(clf, out)


def evaluate(est, model: Path, data: Path, json_out: bool = False, *, split: str | None = None,
             encoding: str = "utf-8") -> None:
    """Score a CSV with ``text`` and ``label`` columns: its ``split == test`` rows when it has
    a split column with test rows (``split="all"``: every row; another value: that split)."""
    from rnnkit.data.frames import select_split
    from rnnkit.tasks.classify_text.datasets import texts_from_frame
    from rnnkit.tasks.common.labels import like_classes
    from rnnkit.tasks.common.texts import read_texts_table

    frame = read_texts_table(data, ["text", "label"], "a table of labelled texts", encoding)
    frame, note = select_split(frame, split, f"rnnkit evaluate {data}")
    X, y = texts_from_frame(frame, label_sep="|" if est.multilabel_ else None)
    table = est.evaluate(X, like_classes(y, est.classes_)).table
    show_scores(table, f"{model.name}: {len(X)} texts", note, json_out)


def predict(est, data: Path, *, encoding: str = "utf-8") -> None:
    """One JSON line per text (a CSV's ``text`` column, or each line of a text file): the
    label (a list for multi-label models) and the class probabilities."""
    from rnnkit.tasks.common.texts import read_input_texts

    proba = est.predict_proba(read_input_texts(data, "text", encoding))
    classes = [k.item() if hasattr(k, "item") else k for k in est.classes_]
    for p, label in zip(proba, est.labels_from_proba(proba)):
        label = label if isinstance(label, list) else (label.item() if hasattr(label, "item") else label)
        sys.stdout.write(json.dumps({"label": label, "proba": {str(k): float(v) for k, v in zip(classes, p)}}) + "\n")
