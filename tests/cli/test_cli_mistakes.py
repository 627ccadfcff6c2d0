"""Mistakes a new user makes with ``rnnkit predict | evaluate | chat``: each gets one
``error:`` line and exit status 2, a warning, or the right answer; never a traceback."""

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import rnnkit
from rnnkit.cli.main import main
from rnnkit.data import datasets
from rnnkit.data.panels import load_panel

RNNKIT = str(Path(sys.executable).with_name("rnnkit"))
GOOD = ["good tasty fresh", "really good", "fresh and good value", "tasty snack"]
BAD = ["bad stale", "awful and bad", "stale old bad", "not fresh awful"]
DE = ["ich bin müde .", "du bist gut .", "er ist alt .", "wir sind hier ."]
EN = ["i am tired .", "you are good .", "he is old .", "we are here ."]
TINY = dict(hidden_size=8, epochs=1, progress="none")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Tiny model files of four tasks, in one folder."""
    root = tmp_path_factory.mktemp("models")
    texts, labels = GOOD * 3 + BAD * 3, ["great"] * 12 + ["other"] * 12
    rnnkit.TextClassifier(min_freq=1, **TINY).fit(texts, labels).save(root / "text.rnnkit")
    rnnkit.Seq2Seq(embedding_dim=8, min_freq=1, max_source_length=8, overlong="error", **TINY) \
        .fit(DE * 3, EN * 3).save(root / "mt.rnnkit")
    weather = datasets.load("seattle-weather")
    rnnkit.Forecaster(lookback=14, horizon=3, ensemble=1, **TINY).fit(weather, time="date", target="temp_max") \
        .save(root / "weather.rnnkit")
    return root


def run(args, capsys):
    """``(status, stdout, stderr)`` of ``rnnkit ARGS``."""
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_error(code, err) -> str:
    """The single ``error:`` line of a refused command."""
    lines = [line for line in err.splitlines() if not line.startswith(("evaluate:", "predict:"))]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def test_predict_text_model_csv_without_text_column(models, tmp_path, capsys):
    csv = tmp_path / "reviews.csv"
    csv.write_text("review,score\ngood,great\n")
    line = one_error(*run(["predict", models / "text.rnnkit", csv], capsys)[::2])
    assert "has no column 'text'" in line and "the file has: review, score" in line


def test_predict_text_model_text_file_a_line_per_text(models, tmp_path, capsys):
    lines = tmp_path / "texts.txt"
    lines.write_text("good and fresh\n\nstale and awful\n")
    code, out, _ = run(["predict", models / "text.rnnkit", lines], capsys)
    assert code == 0 and [json.loads(x)["label"] in ("great", "other") for x in out.splitlines()] == [True] * 2


def test_translation_model_from_files(models, tmp_path, capsys):
    sources = tmp_path / "de.txt"
    sources.write_text("ich bin müde .\ndu bist gut .\n", encoding="utf-8")
    code, out, _ = run(["predict", models / "mt.rnnkit", sources], capsys)
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["source"] for r in records] == ["ich bin müde .", "du bist gut ."]
    assert all(isinstance(r["output"], str) for r in records)
    line = one_error(*run(["evaluate", models / "mt.rnnkit", sources], capsys)[::2])
    assert "source<TAB>target" in line  # sources alone cannot be scored
    pairs = tmp_path / "pairs.csv"
    pd.DataFrame({"source": DE, "target": EN}).to_csv(pairs, index=False)
    code, out, _ = run(["evaluate", models / "mt.rnnkit", pairs, "--json"], capsys)
    assert code == 0 and "bleu" in json.loads(out)["rnnkit greedy"]


def test_labels_that_are_no_class(models, tmp_path, capsys):
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("text,label\ngood,1\nbad,0\n")
    line = one_error(*run(["evaluate", models / "text.rnnkit", numbers], capsys)[::2])
    assert "expected some of the model's classes ['great', 'other']" in line
    assert "got ['1', '0'], none of them a class" in line
    some = tmp_path / "some.csv"
    some.write_text("text,label\ngood,great\nbad,meh\n")
    with pytest.warns(UserWarning, match=r"TextClassifier.evaluate: 1 of 2 labels are none of the "
                                         r"model's classes: \['meh'\] \(classes \['great', 'other'\]\)"):
        assert run(["evaluate", models / "text.rnnkit", some], capsys)[0] == 0


def test_renamed_column_names_the_models_column_and_the_files(models, tmp_path, capsys):
    csv = tmp_path / "tmax.csv"
    datasets.load("seattle-weather").rename(columns={"temp_max": "tmax"}).to_csv(csv, index=False)
    for verb in ("predict", "evaluate"):
        line = one_error(*run([verb, models / "weather.rnnkit", csv], capsys)[::2])
        assert "lacks the column 'temp_max' that this Forecaster was fitted with" in line
        assert "the file has: date, precipitation, tmax, temp_min, wind, weather" in line
        assert "did you mean" not in line


def test_encoding_advice_names_the_flag(models, tmp_path, capsys):
    csv = tmp_path / "latin1.csv"
    csv.write_bytes("text\ncafé good\n".encode("latin-1"))
    line = one_error(*run(["predict", models / "text.rnnkit", csv], capsys)[::2])
    assert "--encoding latin-1" in line and 'encoding="' not in line
    code, out, _ = run(["predict", models / "text.rnnkit", csv, "--encoding", "latin-1"], capsys)
    assert code == 0 and len(out.splitlines()) == 1


@pytest.fixture(scope="module")
def vowels(tmp_path_factory):
    """A tiny vowels model and the exported CSV cut to 20 train + 20 test series."""
    pytest.importorskip("sktime")
    root = tmp_path_factory.mktemp("vowels")
    frame = datasets.load("japanese-vowels")
    keep = list(range(20)) + list(range(270, 290))
    frame[frame["series"].isin(keep)].to_csv(root / "vowels.csv", index=False)
    X, y = load_panel("japanese-vowels", "train")
    rnnkit.SequenceClassifier(val_fraction=0.0, **TINY).fit(X, y).save(root / "vowels.rnnkit")
    return root


def test_evaluate_exported_vowels_scores_the_test_split(vowels, capsys):
    model, csv = vowels / "vowels.rnnkit", vowels / "vowels.csv"
    code, out, _ = run(["evaluate", model, csv], capsys)
    assert code == 0 and "vowels.rnnkit: 20 series" in out
    assert "scored the rows with split == 'test'" in out and "--split all" in out
    code, out, _ = run(["evaluate", model, csv, "--split", "all"], capsys)
    assert code == 0 and "vowels.rnnkit: 40 series" in out and "scored" not in out
    line = one_error(*run(["evaluate", model, csv, "--split", "dev"], capsys)[::2])
    assert "split 'dev': expected rows of that split, got none; the split column holds " \
           "['test', 'train']" in line


# ---- chat -----------------------------------------------------------------------------------
def test_chat_piped_prints_one_reply_per_message(models):
    run_ = subprocess.run([RNNKIT, "chat", str(models / "mt.rnnkit"), "--temperature", "0", "--no-context"],
                          input=f"ich bin müde .\n\n{'du ' * 20}\ndu bist gut .\n/quit\nnever\n",
                          capture_output=True, text=True, timeout=120)
    assert run_.returncode == 0, run_.stderr
    replies = run_.stdout.splitlines()
    assert len(replies) == 2 and "you>" not in run_.stdout and "ich bin" not in run_.stdout
    errors = [line for line in run_.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in run_.stderr  # the over-long message


def test_chat_on_a_terminal_prompts_and_does_not_echo(models):
    main_fd, child_fd = pty.openpty()
    proc = subprocess.Popen([RNNKIT, "chat", str(models / "mt.rnnkit"), "--temperature", "0"],
                            stdin=child_fd, stdout=child_fd, stderr=child_fd, close_fds=True)
    os.close(child_fd)
    try:
        seen = _read_until(main_fd, b"you> ")
        os.write(main_fd, "ich bin müde .\n".encode())
        seen += _read_until(main_fd, b"you> ")
        os.write(main_fd, b"/quit\n")
        proc.wait(timeout=60)
    finally:
        proc.kill()
        os.close(main_fd)
    text = seen.decode("utf-8", "replace")
    assert "type /quit" in text and "bot> " in text
    assert text.count("ich bin") == 1  # the terminal's own echo of the typed line, no second copy


def _read_until(fd, marker: bytes, timeout: float = 90.0) -> bytes:
    data, end = b"", time.monotonic() + timeout
    while marker not in data and time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                data += os.read(fd, 4096)
            except OSError:
                break
    assert marker in data, data
    return data


def test_predict_help_speaks_for_every_task(capsys):
    code, out, _ = run(["predict", "--help"], capsys)
    assert code == 0
    for task in ("classify-text", "seq2seq", "anomaly", "chat"):
        assert task in out
