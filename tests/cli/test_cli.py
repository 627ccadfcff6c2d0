"""The rnnkit command: version, help with examples, quickstart, train/evaluate/predict, and
clear one-line errors (exit status 2) instead of tracebacks."""

import json

import pytest

from rnnkit._version import __version__
from rnnkit.cli.main import main

COMMANDS = [["quickstart"], ["train"], ["evaluate"], ["predict"], ["datasets"], ["datasets", "list"],
            ["datasets", "export"], ["watch"], ["keygen"], ["sign"], ["verify"]]


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"rnnkit {__version__}"


@pytest.mark.parametrize("cmd", COMMANDS, ids=" ".join)
def test_every_command_help_shows_an_example(cmd, capsys):
    assert main(cmd + ["--help"]) == 0
    assert "Example: rnnkit" in capsys.readouterr().out


def test_train_help_shows_the_table_names(capsys):
    """Square brackets are rich markup: the help escapes them, so the table names show."""
    assert main(["train", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "[task] [data] [model] [train]" in text and "TOML config with ." not in text


@pytest.mark.parametrize("verb", ["train", "evaluate", "predict"])
def test_help_names_every_task(verb, capsys):
    assert main([verb, "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for task in ("forecast", "anomaly", "classify-series", "classify-text", "seq2seq", "chat"):
        assert task in text, (verb, task)


def test_quickstart_runs_end_to_end(tmp_path, capsys):
    assert main(["quickstart", "--out", str(tmp_path), "--epochs", "2", "--origins", "4"]) == 0
    out = capsys.readouterr().out
    assert "rnnkit" in out and "seasonal_naive" in out and "ets" in out
    assert (tmp_path / "weather.rnnkit").stat().st_size > 1000
    assert (tmp_path / "backtest.png").read_bytes()[:4] == b"\x89PNG"
    csv = tmp_path / "w.csv"
    assert main(["datasets", "export", "seattle-weather", "--out", str(csv)]) == 0
    capsys.readouterr()
    assert main(["predict", str(tmp_path / "weather.rnnkit"), str(csv)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 7 and json.loads(lines[0])["step"] == 1
    assert main(["evaluate", str(tmp_path / "weather.rnnkit"), str(csv), "--origins", "2", "--json"]) == 0
    assert "MASE" in json.loads(capsys.readouterr().out)["rnnkit"]


def test_train_from_toml_with_override(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[task]\nname = "forecast"\n[data]\ndataset = "seattle-weather"\ntime = "date"\n'
                   'target = "temp_max"\n[model]\nlookback = 14\n[train]\nepochs = 1\n')
    assert main(["train", str(cfg), "--set", "model.cell=gru", "--out", str(tmp_path / "run")]) == 0
    assert (tmp_path / "run" / "model.rnnkit").exists()
    assert (tmp_path / "run" / "metrics.csv").exists()


def test_a_task_option_the_model_does_not_take_is_one_line(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[task]\nname = "anomaly"\n[model]\nhidden_size = 4\nwindow = 16\n[train]\nepochs = 1\n')
    assert main(["train", str(cfg), "--origins", "3", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "error: rnnkit train: --origins: expected an option of task 'anomaly'" in err
    assert "Traceback" not in err


def test_unknown_task_names_the_nearest(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[task]\nname = "seq2sec"\n')
    assert main(["train", str(cfg)]) == 2
    assert "unknown task 'seq2sec'; did you mean 'seq2seq'?" in capsys.readouterr().err


def test_set_reaches_a_sub_table(tmp_path):
    from rnnkit.config_file import config_from_tables

    cfg = config_from_tables({"model": {"decoding": {"beam": 5}}}, ["model.decoding.alpha=1.0",
                                                                    "model.decoding.beam=2"])
    assert cfg.model == {"decoding": {"beam": 2, "alpha": 1.0}}


@pytest.mark.parametrize("args,message", [
    (["train", "missing.toml"], "does not exist"),
    (["datasets", "export", "seattle-wether"], "did you mean 'seattle-weather'"),
])
def test_errors_are_one_clear_line(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_corrupt_model_file(tmp_path, capsys):
    bad = tmp_path / "bad.rnnkit"
    bad.write_bytes(b"not a zip at all")
    assert main(["predict", str(bad), "x.csv"]) == 2
    assert "not an rnnkit model file" in capsys.readouterr().err


def test_unknown_config_key(tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[data]\ntarget = "temp_max"\ntime = "date"\n[model]\nhiden_size = 3\n')
    assert main(["train", str(cfg)]) == 2
    assert "did you mean 'hidden_size'" in capsys.readouterr().err


def test_missing_argument_is_a_usage_error_not_a_traceback(capsys):
    assert main(["evaluate"]) == 2
    err = capsys.readouterr().err
    assert "Missing argument" in err and "Traceback" not in err
