"""rnnkit compare: the same recipe per cell, one measured table and a recommendation."""

import json
import math

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from rnnkit.cli import compare as compare_cmd
from rnnkit.compare import compare_cells, recommend, runs_to_dicts, table
from rnnkit.config_file import read_config
from rnnkit.errors import ConfigError

CONFIG = """[task]
name = "forecast"
[data]
path = "{path}"
time = "date"
target = "y"
[model]
lookback = 14
horizon = 3
hidden_size = 8
[train]
epochs = 1
"""


@pytest.fixture
def config(tmp_path):
    n = 150
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"date": pd.date_range("2022-01-01", periods=n, freq="D"),
                          "y": np.sin(np.arange(n) * 2 * np.pi / 7) + 5 + 0.1 * rng.normal(size=n)})
    frame.to_csv(tmp_path / "series.csv", index=False)
    path = tmp_path / "c.toml"
    path.write_text(CONFIG.format(path=(tmp_path / "series.csv").as_posix()))
    return path


def cli():
    app = typer.Typer()
    compare_cmd.register(app)
    app.command("noop")(lambda: None)  # two commands, so "compare" stays a sub-command
    return app


def test_cli_prints_the_table_and_writes_json_markdown_png(config, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(cli(), ["compare", str(config), "--cells", "rnn,gru", "--in-process",
                                        "--origins", "2", "--out", str(out)],
                                 env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for column in ("MASE", "beats_baseline", "train_s", "latency_ms", "params", "peak_mem_mb"):
        assert column in result.output
    assert "recommendation: " in result.output
    saved = json.loads((out / "compare.json").read_text())
    assert [r["run"] for r in saved["runs"]] == ["rnn", "gru"]
    assert saved["runs"][0]["params"] < saved["runs"][1]["params"]  # a GRU has 3 gates to the RNN's 1
    assert saved["recommendation"].split(":")[0] in ("rnn", "gru")
    assert (out / "compare.png").read_bytes()[:4] == b"\x89PNG"
    assert "| run | MASE |" in (out / "compare.md").read_text()


def test_sizes_make_one_run_per_cell_and_size(config):
    runs = compare_cells(read_config(config), ["gru"], [4, 8], origins=1, isolate=False, log=lambda m: None)
    assert [(r.name, r.hidden_size) for r in runs] == [("gru-4", 4), ("gru-8", 8)]
    frame = table(runs_to_dicts(runs, "forecast"), "forecast")
    assert list(frame.index)[-1].startswith("baseline: ")


def test_isolated_run_reports_peak_memory(config):
    runs = compare_cells(read_config(config), ["rnn"], origins=1, isolate=True, threads=1, log=lambda m: None)
    assert runs[0].peak_mem_mb >= 0 and math.isfinite(runs[0].peak_mem_mb)
    assert runs[0].result.params > 0 and runs[0].result.latency_ms > 0


def row(run, mase, train_s, params=100, base=1.0):
    return {"run": run, "MASE": mase, "train_s": train_s, "params": params, "baseline": "naive",
            "baseline_MASE": base}


def test_recommendation_prefers_the_fastest_run_within_tolerance():
    rows = [row("lstm", 0.800, 10.0), row("gru", 0.808, 6.0), row("rnn", 0.900, 2.0)]
    assert recommend(rows, "forecast") == \
        "gru: within 1.0% of the best MASE (lstm, 0.800) at 0.60x its training time"


def test_recommendation_names_the_best_run_and_a_better_baseline():
    rows = [row("lstm", 0.800, 5.0, base=0.7), row("gru", 0.900, 6.0, base=0.7)]
    assert recommend(rows, "forecast") == ("lstm: best MASE (0.800) and the fastest training among runs "
                                           "within 2% of it; but the baseline naive scores better (MASE 0.700)")


def test_accuracy_is_higher_is_better():
    rows = [{"run": "lstm", "accuracy": 0.90, "train_s": 9.0, "params": 1, "baseline": "tfidf",
             "baseline_accuracy": 0.8},
            {"run": "gru", "accuracy": 0.80, "train_s": 1.0, "params": 1, "baseline": "tfidf",
             "baseline_accuracy": 0.8}]
    assert recommend(rows, "classify-text").startswith("lstm: best accuracy (0.900)")


@pytest.mark.parametrize("cells, sizes, message", [
    (["lstm", "grux"], [], "unknown cell for task 'forecast' 'grux'; did you mean 'gru'?"),
    ([], [], "compare: --cells: expected at least one cell, got none"),
    (["gru"], [0], "compare: --sizes: expected integers >= 1, got 0"),
    (["gru", "gru"], [], "expected no repeats"),
])
def test_bad_cells_and_sizes_are_clear_errors(config, cells, sizes, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("?", r"\?")):
        compare_cells(read_config(config), cells, sizes, isolate=False)


def test_unsupported_task_is_a_clear_error(tmp_path):
    path = tmp_path / "lm.toml"
    path.write_text('[task]\nname = "lm"\n')
    with pytest.raises(ConfigError, match="unknown task for compare"):
        compare_cells(read_config(path), ["gru"], isolate=False)


def test_cli_bad_sizes_exit_with_the_message(config):
    result = CliRunner().invoke(cli(), ["compare", str(config), "--sizes", "a,b", "--in-process"])
    assert result.exit_code != 0
    assert "comma-separated integers" in str(result.exception)
