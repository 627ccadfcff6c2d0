"""Warnings at the shell: one ``warning: ...`` line, not a frame inside typer."""

import subprocess
import sys
import warnings

import pandas as pd

import rnnkit
from rnnkit.cli.main import format_warning


def test_user_warnings_print_as_one_line_and_others_keep_their_location():
    line = format_warning("cut to 3 tokens", UserWarning, "/x/typer/main.py", 1445)
    assert line == "warning: cut to 3 tokens\n"
    other = format_warning("overflow", RuntimeWarning, "/x/model.py", 7)
    assert other == warnings.formatwarning("overflow", RuntimeWarning, "/x/model.py", 7)
    assert "/x/model.py:7" in other


def test_an_overlong_text_at_the_shell_warns_in_one_clean_line(tmp_path):
    texts = ["good tasty fresh", "stale awful bad", "good fresh", "bad stale"] * 3
    labels = ["pos", "neg", "pos", "neg"] * 3
    clf = rnnkit.TextClassifier(hidden_size=8, min_freq=1, max_length=3, epochs=1,
                                progress="none").fit(texts, labels)
    model = clf.save(tmp_path / "clf.rnnkit")
    csv = tmp_path / "long.csv"
    pd.DataFrame({"text": ["good tasty fresh and good and fresh"]}).to_csv(csv, index=False)
    run = subprocess.run([sys.executable, "-m", "rnnkit.cli.main", "predict", str(model), str(csv)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "warning: " in run.stderr and "max_length=3" in run.stderr
    assert "UserWarning" not in run.stderr and "typer" not in run.stderr
    assert '"label"' in run.stdout
