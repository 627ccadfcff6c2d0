"""``rnnkit train | evaluate | predict`` for task ``chat``: a retrieval chatbot
(:class:`~rnnkit.ChatModel`, a recurrent dual encoder that answers with real replies).

Data: the chit-chat corpus (``[data] dataset = "chitchat"``, ``pip install
chitchat_dataset``; conversations split whole into train / test), or a file (``path``): a
CSV or Parquet table with columns ``source`` (the message, earlier turns before it joined
by `` <sep> ``) and ``target`` (the reply), other names through ``[data] source`` and
``target``, and optionally ``split`` (train / test); or a text file of
``source<TAB>target`` lines. ``limit`` keeps at most that many pairs of each split.

``evaluate`` scores Recall@k of 10 candidates (the true reply among 9 random others of the
same data) for the model beside TF-IDF retrieval and a random pick; its DATA is such a
file or the name ``chitchat`` (the corpus's test conversations). ``predict`` answers each
source of a file (a table's ``source`` column, or a text file's lines) with one JSON line
``{"source", "reply", "score"}``: the best reply of the model's bank and its score.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import typer

from rnnkit.cli.runs import check_data_keys, limit, save_model, subset
from rnnkit.errors import ConfigError, unknown_name

DATA_KEYS = ("dataset", "path", "source", "target", "encoding", "limit")
DATASETS = ("chitchat",)
SEP = " <sep> "  # joins earlier turns and the message in a source
MESSAGES = ("Hi! How are you doing today?", "What are your plans for the weekend?",
            "Do you like to read books?")


def _frame(data: dict) -> pd.DataFrame:
    """The config's pairs as a table ``source, target`` (and ``split`` when there is one)."""
    from rnnkit.cli.seq2seq import read_pairs
    from rnnkit.data import datasets

    if "path" in data:
        return read_pairs(data["path"], source=data.get("source", "source"),
                          target=data.get("target", "target"), encoding=data.get("encoding", "utf-8"))
    name = data.get("dataset", DATASETS[0])
    if name not in DATASETS:
        raise ConfigError(unknown_name("chat data set", name, DATASETS))
    return datasets.load(name)


def _pairs(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    return frame["source"].astype(str).tolist(), frame["target"].astype(str).tolist()


def _splits(frame: pd.DataFrame):
    """``(train pairs, test pairs or None)``: the ``split`` column's train and test rows, or
    every row for training when the table has no split column."""
    if "split" not in frame.columns:
        return _pairs(frame), None
    split = frame["split"].astype(str)
    test = _pairs(frame[split == "test"]) if (split == "test").any() else None
    return _pairs(frame[split == "train"]), test


def train(cfg, out: Path, resume: bool) -> None:
    from rnnkit.tasks.chat import ChatModel

    check_data_keys(cfg, DATA_KEYS)
    n = limit(cfg.data)
    train_pairs, test = _splits(_frame(cfg.data))
    (messages, replies), test = subset(train_pairs, n), subset(test, n)
    model = ChatModel(**cfg.model, **cfg.train).fit(messages, replies, out_dir=out, resume=resume)
    save_model(model, out)  # first: a test split too small to score must not lose the model
    title = f"Test split ({len(test[0])} pairs)" if test else f"Training pairs ({len(messages)}, in-sample)"
    _show(model, model.evaluate(*(test or (messages, replies))).table, title, None, False)


def _show(est, table: pd.DataFrame, title: str, note: str | None, json_out: bool) -> None:
    """The recall table (rows: the model, then the baselines) and, on a terminal table, the
    model's replies to a few fixed messages."""
    from rnnkit.cli.scores import show_scores

    if "method" in table.columns:
        table = table.set_index("method")
    if not json_out:
        table = table.astype(object)  # each cell keeps its type: n prints as a count, not 5000.000
    show_scores(table, title, note, json_out, highlight=table.index[0])
    if not json_out:
        for message in MESSAGES:
            typer.echo(f"  {message}  ->  {est.reply(message)}")


def _data_frame(data: Path, encoding: str) -> pd.DataFrame:
    """The pairs of ``data``: a file, or the name of a bundled corpus (``chitchat``)."""
    from rnnkit.cli.seq2seq import read_pairs
    from rnnkit.data import datasets

    if not data.exists() and str(data) in DATASETS:
        return datasets.load(str(data))
    return read_pairs(data, encoding=encoding, where="rnnkit evaluate")


def evaluate(est, model: Path, data: Path, json_out: bool = False, *, split: str | None = None,
             encoding: str = "utf-8") -> None:
    """Recall@1/2/5 of 10 candidates on the pairs of ``data`` (a file, or ``chitchat``): its
    test split when it has a ``split`` column with test rows (``split="all"``: every row;
    another value: that split), beside TF-IDF retrieval and a random pick."""
    from rnnkit.data.frames import select_split

    frame, note = select_split(_data_frame(data, encoding), split, f"rnnkit evaluate {data}")
    report = est.evaluate(*_pairs(frame))
    _show(est, report.table, f"{model.name}: {len(frame)} pairs", note, json_out)


def split_turns(source: str) -> tuple[str, list[str]]:
    """``(message, earlier turns)`` of a source whose earlier turns precede the message,
    joined by `` <sep> `` (``"a <sep> b"`` -> ``("b", ["a"])``)."""
    *context, message = source.split(SEP)
    return message, context


def predict(est, data: Path, *, encoding: str = "utf-8") -> None:
    """One JSON line per source (a line of a text file, or a table's ``source`` column): the
    model's best reply and its score (earlier turns joined by `` <sep> `` are its context)."""
    from rnnkit.cli.seq2seq import read_pairs

    sources = read_pairs(data, target=None, encoding=encoding, where="rnnkit predict")["source"].tolist()
    for source in sources:
        message, context = split_turns(source)
        (reply, score), *_ = est.replies(message, context or None, k=1)
        sys.stdout.write(json.dumps({"source": source, "reply": reply, "score": float(score)},
                                    ensure_ascii=False) + "\n")
