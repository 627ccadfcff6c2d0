"""rnnkit tune: Optuna search, best config and model written, a killed study resumes."""

import numpy as np
import pandas as pd
import pytest

optuna = pytest.importorskip("optuna")

import rnnkit  # noqa: E402
from rnnkit.config_file import read_config  # noqa: E402
from rnnkit.errors import ConfigError  # noqa: E402
from rnnkit.tuning import parse_space, read_tune_config, tune  # noqa: E402

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
ensemble = 1
guard = "keep"
[train]
epochs = 1
[tune]
cell = ["rnn", "gru"]
hidden_size = [4, 16]
lr = [1e-3, 1e-2]
lookback = [7, 14]
"""


@pytest.fixture
def config(tmp_path):
    n = 120
    frame = pd.DataFrame({"date": pd.date_range("2022-01-01", periods=n, freq="D"),
                          "y": np.sin(np.arange(n) * 2 * np.pi / 7) + 5
                          + 0.2 * np.random.default_rng(0).normal(size=n)})
    frame.to_csv(tmp_path / "series.csv", index=False)
    path = tmp_path / "c.toml"
    path.write_text(CONFIG.format(path=(tmp_path / "series.csv").as_posix()))
    return path


def run(config, out, trials, **kw):
    cfg, space = read_tune_config(config)
    return tune(cfg, space, out, trials, origins=2, log=lambda m: None, **{"trial_seeds": 1, **kw})


def test_writes_a_runnable_best_config_and_a_loadable_model(config, tmp_path):
    result = run(config, tmp_path / "t", 3)
    assert result.n_trials == 3
    best = read_config(result.paths["config"])
    assert best.task == "forecast" and best.train["epochs"] == 1
    assert best.model["cell"] == result.best_settings["cell"] and best.train["lr"] == result.best_settings["lr"]
    model = rnnkit.load(result.paths["model"])
    assert model.config.cell == result.best_settings["cell"]
    assert model.config.lookback == result.best_settings["lookback"]
    assert set(result.check) >= {"default", "best", "baseline_metric"}
    c = result.check
    assert c["seeds"] == 3 and len(c["default_per_seed"]) == 3 and len(set(c["default_per_seed"])) > 1
    assert c["default"] == pytest.approx(np.mean(c["default_per_seed"]))


def test_an_interrupted_study_resumes_to_the_requested_total(config, tmp_path):
    out = tmp_path / "t"

    def stop_after_two(study, trial):
        if trial.number == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(config, out, 4, check=False, callbacks=[stop_after_two])
    study = optuna.load_study(study_name="rnnkit-tune", storage=f"sqlite:///{out / 'study.db'}")
    first = [t.params for t in study.trials]
    assert len(first) == 2
    result = run(config, out, 4, check=False)
    study = optuna.load_study(study_name="rnnkit-tune", storage=f"sqlite:///{out / 'study.db'}")
    assert result.n_trials == 4 and len(study.trials) == 4
    assert [t.params for t in study.trials[:2]] == first  # the first two were kept, not rerun
    assert run(config, out, 4, check=False).n_trials == 4  # nothing left to do


def test_a_trial_killed_mid_run_is_marked_failed_and_not_counted(config, tmp_path):
    out = tmp_path / "t"
    run(config, out, 1, check=False)
    study = optuna.load_study(study_name="rnnkit-tune", storage=f"sqlite:///{out / 'study.db'}")
    study.ask()  # a trial left RUNNING, as by a killed process
    result = run(config, out, 2, check=False)
    states = [t.state.name for t in optuna.load_study(study_name="rnnkit-tune",
                                                      storage=f"sqlite:///{out / 'study.db'}").trials]
    assert result.n_trials == 2 and states.count("FAIL") == 1


@pytest.mark.parametrize("kw, message", [
    (dict(trials=0), "tune: trials: expected an integer >= 1, got 0"),
    (dict(trials=2, folds=0), "tune: folds: expected an integer >= 1, got 0"),
    (dict(trials=2, check_seeds=0), "tune: check_seeds: expected an integer >= 1, got 0"),
])
def test_bad_counts_are_clear_errors(config, tmp_path, kw, message):
    cfg, space = read_tune_config(config)
    trials = kw.pop("trials")
    with pytest.raises(ConfigError, match=message):
        tune(cfg, space, tmp_path / "t", trials, **kw)


def test_unknown_tune_key_names_the_nearest():
    with pytest.raises(ConfigError, match="unknown \\[tune\\] key for task 'forecast' 'hiden_size'; "
                                          "did you mean 'hidden_size'"):
        parse_space("forecast", {"hiden_size": [8, 16]})


def test_unknown_cell_in_the_space_fails_with_the_cell_error(config, tmp_path):
    cfg, _ = read_tune_config(config)
    with pytest.raises(ConfigError, match="unknown cell 'grux'; did you mean 'gru'"):
        tune(cfg, {"cell": ["lstm", "grux"]}, tmp_path / "t", 3, origins=2, log=lambda m: None)


def test_space_shapes():
    dims = {d.name: d for d in parse_space("forecast", {"cell": ["lstm", "gru"], "hidden_size": [16, 128],
                                                        "lr": [1e-4, 1e-2], "num_layers": 2})}
    assert (dims["cell"].kind, dims["hidden_size"].kind, dims["lr"].kind, dims["num_layers"].kind) == \
        ("categorical", "int", "float", "fixed")
    with pytest.raises(ConfigError, match="expected \\[low, high\\] with low < high"):
        parse_space("forecast", {"dropout": [0.5, 0.1]})
    assert {d.name for d in parse_space("forecast", None)} >= {"cell", "hidden_size", "lr", "lookback"}


def test_a_study_resumed_with_another_space_is_refused(config, tmp_path):
    run(config, tmp_path / "t", 1, check=False)
    cfg, _ = read_tune_config(config)
    with pytest.raises(ConfigError, match="use a new --out folder for a new space"):
        tune(cfg, {"cell": ["lstm"]}, tmp_path / "t", 2, log=lambda m: None)


def test_read_config_alone_still_rejects_the_tune_table(config):
    with pytest.raises(ConfigError, match="unknown config table 'tune'"):
        read_config(config)


def test_trial_zero_is_the_config_as_written(config, tmp_path):
    out = tmp_path / "t"
    run(config, out, 2, check=False)
    study = optuna.load_study(study_name="rnnkit-tune", storage=f"sqlite:///{out / 'study.db'}")
    first = study.trials[0].params
    # written: hidden_size 8, lookback 14, lr 3e-3 (the Forecaster's default) — all in the space;
    # cell "lstm" (the default) is not among ["rnn", "gru"], so trial 0 samples it
    assert first["hidden_size"] == 8 and first["lookback"] == 14 and first["lr"] == pytest.approx(3e-3)
    assert first["cell"] in ("rnn", "gru")


def test_trial_seeds_average_fits_and_a_new_scoring_needs_a_new_folder(config, tmp_path):
    out = tmp_path / "t"
    one = run(config, out, 1, check=False)
    with pytest.raises(ConfigError, match="new space or scoring"):
        run(config, out, 2, check=False, trial_seeds=2)
    two = run(config, tmp_path / "t2", 1, check=False, trial_seeds=2)  # trial 0 = the same settings
    assert two.best_settings == one.best_settings and two.best_value != one.best_value


def test_when_every_trial_fails_the_error_says_why(tmp_path):
    n = 120
    frame = pd.DataFrame({"date": pd.date_range("2022-01-01", periods=n, freq="D"), "y": np.full(n, 3.0)})
    frame.to_csv(tmp_path / "flat.csv", index=False)
    path = tmp_path / "c.toml"
    path.write_text(CONFIG.format(path=(tmp_path / "flat.csv").as_posix()))
    with pytest.raises(ConfigError) as e:
        run(path, tmp_path / "t", 2, check=False)
    assert "none of 2" in str(e.value) and "last failure: the trial's score was NaN" in str(e.value)
