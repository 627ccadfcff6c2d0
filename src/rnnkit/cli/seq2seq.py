"""``rnnkit train | evaluate | predict`` for task ``seq2seq``: translation or chat (``[task]
mode``; default ``chat`` for the chit-chat data, else ``translate``).

Data: a bundled corpus (``[data] dataset``: ``ding-de-en``, the Ding dictionary's German ->
English sentences, ``apt-get install trans-de-en``; ``chitchat``, (previous turn <sep>
message -> reply) pairs, ``pip install chitchat_dataset``), or a file (``path``): a CSV or
Parquet table with ``source`` and ``target`` columns (other names: ``[data] source`` and
``target``) and optionally ``split`` (train / test), or a text file of ``source<TAB>target``
lines. ``predict`` also reads a text file of sources, one a line.

A translator is scored by BLEU / chrF (greedy, beam and the word-by-word dictionary); a chat
model (trained without the dictionary) by the perplexity of the reference replies."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import typer

from rnnkit.cli.runs import check_data_keys, limit, save_model, subset
from rnnkit.cli.tables import print_table
from rnnkit.errors import ConfigError, DataError, problem, unknown_name

DATA_KEYS = ("dataset", "path", "source", "target", "encoding", "max_source_words", "max_target_words",
             "limit")
MODES = ("translate", "chat")
DATASETS = ("ding-de-en", "chitchat")
TABLE_SUFFIXES = (".csv", ".parquet", ".pq")
MESSAGES = ("Hi! How are you doing today?", "What are your plans for the weekend?")


def read_pairs(path, *, source: str = "source", target: str | None = "target",
               encoding: str = "utf-8", where: str = "data") -> pd.DataFrame:
    """A table with columns ``source``, ``target`` (unless ``target`` is None) and, when the
    file has one, ``split``: from a CSV / Parquet table, or from the lines of a text file
    (``source<TAB>target``, or bare sources when ``target`` is None)."""
    from rnnkit.data.frames import check_columns, read_table
    from rnnkit.data.text.reading import read_text

    if Path(path).suffix.lower() not in TABLE_SUFFIXES:
        lines = [line for line in read_text(path, encoding).splitlines() if line.strip()]
        if not lines:
            raise DataError(problem(f"{where}: {path}", expected="some lines", got="an empty file"))
        parts = [line.split("\t", 1) for line in lines]
        if target is None:
            return pd.DataFrame({"source": [p[0] for p in parts]})
        bad = next((i for i, p in enumerate(parts) if len(p) < 2), None)
        if bad is not None:
            raise DataError(problem(f"{where}: line {bad + 1} of {path}", expected="a pair, source<TAB>"
                                    "target", got=repr(lines[bad][:60]), fix="to translate or answer "
                                    "each line, use rnnkit predict MODEL FILE"))
        return pd.DataFrame({"source": [p[0] for p in parts], "target": [p[1] for p in parts]})
    frame = read_table(path, encoding)
    check_columns(frame, [source] + ([target] if target else []), "text")
    names = {source: "source", **({target: "target"} if target else {})}
    keep = list(names) + (["split"] if "split" in frame.columns else [])
    return frame[keep].rename(columns=names).astype({"source": str})


def _pairs(frame: pd.DataFrame) -> tuple[list[str], list[str]]:
    return frame["source"].astype(str).tolist(), frame["target"].astype(str).tolist()


def _mode(cfg) -> str:
    mode = cfg.mode or ("chat" if cfg.data.get("dataset") == "chitchat" and "path" not in cfg.data
                        else "translate")
    if mode not in MODES:
        raise ConfigError(unknown_name("[task] mode for task 'seq2seq'", mode, MODES))
    return mode


def _data(data: dict):
    """``(train pairs, test pairs or None)`` of the config's file or bundled corpus."""
    from rnnkit.tasks.seq2seq.datasets import chitchat_pairs, ding_pairs

    if "path" in data:
        frame = read_pairs(data["path"], source=data.get("source", "source"),
                           target=data.get("target", "target"), encoding=data.get("encoding", "utf-8"))
        if "split" not in frame.columns:
            return _pairs(frame), None
        split = frame["split"].astype(str)
        test = _pairs(frame[split == "test"]) if (split == "test").any() else None
        return _pairs(frame[split == "train"]), test
    name = data.get("dataset", "ding-de-en")
    if name not in DATASETS:
        raise ConfigError(unknown_name("seq2seq data set", name, DATASETS))
    load = ding_pairs if name == "ding-de-en" else chitchat_pairs
    return load("train"), load("test")


def _short(pairs, data: dict):
    """The pairs within ``[data] max_source_words`` / ``max_target_words`` (all without them)."""
    most = {key: data.get(key) for key in ("max_source_words", "max_target_words")}
    for key, value in most.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ConfigError(problem(f"[data] {key}", expected="an integer >= 1", got=repr(value)))
    if pairs is None or most == {"max_source_words": None, "max_target_words": None}:
        return pairs
    fits = [(s, t) for s, t in zip(*pairs) if len(s.split()) <= (most["max_source_words"] or len(s))
            and len(t.split()) <= (most["max_target_words"] or len(t))]
    return [s for s, _ in fits], [t for _, t in fits]


def train(cfg, out: Path, resume: bool) -> None:
    from rnnkit.tasks.seq2seq import Seq2Seq

    check_data_keys(cfg, DATA_KEYS)
    mode, n = _mode(cfg), limit(cfg.data)
    train_pairs, test = (_short(pairs, cfg.data) for pairs in _data(cfg.data))
    (sources, targets), test = subset(train_pairs, n), subset(test, n)
    est = Seq2Seq(**cfg.model, **cfg.train).fit(sources, targets, dictionary=mode == "translate",
                                                out_dir=out, resume=resume)
    title = f"Test split ({len(test[0])} pairs)" if test else f"Training pairs ({len(sources)}, in-sample)"
    table, samples = _scores(est, *(test or (sources, targets)))
    print_table(table, title, highlight=table.index[0])
    _show(samples, False)
    save_model(est, out)


def _scores(est, sources: list[str], targets: list[str]) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """BLEU / chrF with a few translations, or a chat model's perplexity with a few replies."""
    if est.is_chat:
        table = pd.DataFrame({"perplexity": [est.perplexity(sources, targets)]},
                             index=pd.Index(["rnnkit"], name="model"))
        return table, [(m, est.reply(m, seed=0)) for m in MESSAGES]
    report = est.evaluate(sources, targets)
    best = [name for name in report.outputs if name.startswith("rnnkit")][-1]  # beam, else greedy
    return report.table, list(zip(sources[:3], report.outputs[best][:3]))


def _show(samples: list[tuple[str, str]], json_out: bool) -> None:
    for source, output in ([] if json_out else samples):
        typer.echo(f"  {source}  ->  {output}")


def evaluate(est, model: Path, data: Path, json_out: bool = False, *, split: str | None = None,
             encoding: str = "utf-8") -> None:
    """The pairs of ``data``: its test split when it has a ``split`` column with test rows
    (``split="all"``: every row; another value: that split)."""
    from rnnkit.cli.scores import show_scores
    from rnnkit.data.frames import select_split

    frame, note = select_split(read_pairs(data, encoding=encoding, where="rnnkit evaluate"), split,
                               f"rnnkit evaluate {data}")
    table, samples = _scores(est, *_pairs(frame))
    show_scores(table, f"{model.name}: {len(frame)} pairs", note, json_out, highlight=table.index[0])
    _show(samples, json_out)


def predict(est, data: Path, *, encoding: str = "utf-8") -> None:
    """One JSON line per source (a line of a text file, or the ``source`` column of a table):
    the translation, or a chat model's reply (beam search, deterministic)."""
    sources = read_pairs(data, target=None, encoding=encoding, where="rnnkit predict")["source"].tolist()
    if est.is_chat:
        beam = est.config.decoding_settings.beam
        outputs = [est.reply(s, beam=beam) for s in sources]
    else:
        outputs = est.translate(sources)
    for source, output in zip(sources, outputs):
        sys.stdout.write(json.dumps({"source": source, "output": output}, ensure_ascii=False) + "\n")
