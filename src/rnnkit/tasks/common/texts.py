"""Input handling the text tasks share (classify-text, lm, seq2seq): checking texts, reading
them from files, the baselines asked for."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from rnnkit.data.frames import require_columns
from rnnkit.data.text.encoder import warn_user
from rnnkit.data.text.reading import read_text, read_text_table
from rnnkit.errors import ConfigError, DataError, problem


def as_texts(texts, where: str) -> list[str]:
    """``texts`` -> a non-empty list of str (a list, tuple, array or Series of str)."""
    if isinstance(texts, str):
        raise DataError(problem(f"{where}: texts", expected="a list of texts", got="one str",
                                fix="wrap it in a list: [text]"))
    if isinstance(texts, pd.DataFrame):
        raise DataError(problem(f"{where}: texts", expected="a list or Series of str",
                                got="a DataFrame", fix="pass one column: frame['text']"))
    try:
        items = list(texts.tolist() if hasattr(texts, "tolist") else texts)
    except TypeError:
        raise DataError(problem(f"{where}: texts", expected="a list of str",
                                got=type(texts).__name__)) from None
    if not items:
        raise DataError(problem(f"{where}: texts", expected="at least one text", got="none"))
    for i, t in enumerate(items):
        if not isinstance(t, str):
            got = "NaN (a missing value)" if isinstance(t, float) and math.isnan(t) else \
                f"{type(t).__name__} {t!r}"[:80]
            raise DataError(problem(f"{where}: texts[{i}]", expected="a str", got=got,
                                    fix="drop or fill missing texts (frame.dropna(subset=[...])) "
                                    "and convert the rest with str()"))
    return items


def requested_baselines(names, known: str, where: str, *, kept: bool, what: str) -> list[str]:
    """The baselines ``evaluate`` was asked for (one name or a list), each checked against
    the task's one ``known`` baseline; empty, with one warning, when the model keeps no
    training texts (``kept=False``) to fit ``what`` on."""
    names = [names] if isinstance(names, str) else list(names)
    for name in names:
        if name != known:
            raise ConfigError(problem(f"{where}: baseline", expected=repr(known), got=repr(name)))
    if names and not kept:
        warn_user(f"{where}: this model holds no training texts (keep_train_texts=False), so the "
                  f"{what} baseline is skipped")
        return []
    return names


TABLE_SUFFIXES = {".csv": ",", ".tsv": "\t"}


def read_texts_table(path, columns: list[str], what: str, encoding: str = "utf-8") -> pd.DataFrame:
    """A CSV (``.tsv``: tab-separated) with a header row, decoded with ``encoding``; each of
    ``columns`` must be there (``what`` names the layout in the error, e.g. ``"a table of
    texts"``)."""
    path = Path(path)
    frame = read_text_table(path, encoding, sep=TABLE_SUFFIXES.get(path.suffix.lower(), ","))
    require_columns(frame, columns, what, path)
    return frame


def read_input_texts(path, column: str, encoding: str = "utf-8") -> list[str]:
    """The texts of a file: column ``column`` of a ``.csv`` / ``.tsv`` table, else one text per
    line of a text file (blank lines skipped)."""
    path = Path(path)
    if path.suffix.lower() in TABLE_SUFFIXES:
        return read_texts_table(path, [column], f"a table with a {column!r} column", encoding)[column].tolist()
    lines = [line for line in read_text(path, encoding).splitlines() if line.strip()]
    if not lines:
        raise DataError(problem(f"text file {str(path)!r}", expected="one text per line",
                                got="no line with text", fix="check the path"))
    return lines
