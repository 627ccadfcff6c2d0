"""What the per-task command modules share (rnnkit.cli.runs): the data slice and the
start/end lines of long work."""

import time

import numpy as np
import pytest

from rnnkit.cli.runs import announced, limit, subset
from rnnkit.errors import ConfigError


def test_long_work_says_when_it_starts_and_ends(capsys):
    with announced("evaluate: m.rnnkit on x.csv", after=0.01):
        time.sleep(0.2)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "evaluate: m.rnnkit on x.csv ..."
    assert lines[1].startswith("evaluate: m.rnnkit on x.csv: done in ") and len(lines) == 2


def test_quick_work_and_a_quick_mistake_print_nothing_more(capsys):
    with announced("predict: m.rnnkit", after=5.0):
        pass
    with pytest.raises(ConfigError), announced("predict: m.rnnkit", after=5.0):
        raise ConfigError("bad")
    assert capsys.readouterr().err == ""


def test_a_slice_keeps_pairs_aligned_and_in_order():
    texts, labels = [f"t{i}" for i in range(10)], np.arange(10)
    small = subset((texts, labels), 4)
    assert [int(t[1:]) for t in small[0]] == small[1].tolist() == sorted(small[1].tolist())
    assert subset((texts, labels), 4)[0] == small[0]  # seeded: the same slice each time
    assert subset(texts, None) is texts and subset(texts, 50) is texts and subset(None, 3) is None
    assert limit({}) is None and limit({"limit": 5}) == 5
    with pytest.raises(ConfigError, match=r"\[data\] limit: expected an integer >= 1"):
        limit({"limit": 0.5})
