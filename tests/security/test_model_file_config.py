"""Model files whose config, preprocessing or tensors disagree with their task (issue 22,
items 4, 6 and 7): refused by ``rnnkit.load`` before any weight is read, with one line.

Each hostile file is made as an attacker would: read with ``read_bundle``, edited, saved
with ``save_bundle`` — so every digest is valid and only the task's own check
(``Estimator.check_file``) can refuse it.

Rule for every hostile forecaster file: ``rnnkit.load`` in a fresh process answers an
``RnnkitError`` subclass, no traceback, a message naming the field or tensor, and its
peak memory growth ``rss_delta_kib(hostile) <= 2 * rss_delta_kib(honest)``, where honest
is the unmodified file loaded the same way (``load_in_subprocess``). The other tasks are
attacked in-process through the v1 model files in ``tests/fixtures/v1_models`` (no
fitting) and a tiny chat model fitted here (the chat task is newer than those files), with
the same message checks.
"""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch
from security_helpers import daily_frame, load_in_subprocess

import rnnkit
from rnnkit.bundle import read_bundle, save_bundle
from rnnkit.errors import BundleError, ConfigError

V1 = Path(__file__).resolve().parents[1] / "fixtures" / "v1_models"


def craft(src: Path, dst: Path, edit) -> Path:
    """``src`` read, changed by ``edit(config, preprocessing, tensors)``, saved to ``dst``."""
    b = read_bundle(src)
    config, pre, tensors = copy.deepcopy(b.config), copy.deepcopy(b.preprocessing), dict(b.tensors)
    edit(config, pre, tensors)
    return save_bundle(dst, task=b.task, config=config, tensors=tensors, preprocessing=pre,
                       metrics=b.metrics)


def setting(name, value):
    return lambda c, p, t: c["settings"].__setitem__(name, value)


def reshaped(name):
    def edit(c, p, t):
        t[name] = torch.zeros(t[name].shape[0] + 1, *t[name].shape[1:])
    return edit


def as_dtype(name, dtype):
    return lambda c, p, t: t.__setitem__(name, t[name].to(dtype))


def lstm_weights_in_a_gru(c, p, t):  # the file's weights are an LSTM's; the config says GRU
    c["settings"]["cell"] = "gru"


# case -> (edit, a word the one-line message must hold)
FORECASTER_CASES = {
    "hidden_size=12000": (setting("hidden_size", 12000), "hidden_size"),
    "hidden_size=1e9": (setting("hidden_size", 1e9), "hidden_size"),
    "lookback=3e7": (setting("lookback", 3e7), "lookback"),
    "num_layers=1e6": (setting("num_layers", 1e6), "num_layers"),
    "missing scalers": (lambda c, p, t: p.pop("scalers"), "scalers"),
    "missing settings": (lambda c, p, t: c.pop("settings"), "settings"),
    "wrong-shape tensor": (reshaped("encoder.weight_hh_l0"), "encoder.weight_hh_l0"),
    "extra tensor": (lambda c, p, t: t.__setitem__("extra.weight", torch.zeros(3)), "extra.weight"),
    "missing tensor": (lambda c, p, t: t.pop("head.3.bias"), "head.3.bias"),
    "gru config, lstm weights": (lstm_weights_in_a_gru, "encoder.weight_ih_l0"),
    "int8 weights": (as_dtype("encoder.weight_ih_l0", torch.int8), "encoder.weight_ih_l0"),
    "bool weights": (as_dtype("head.0.weight", torch.bool), "head.0.weight"),
    "device meta": (setting("device", "meta"), "device"),
    "duplicate targets": (lambda c, p, t: c["columns"].__setitem__("targets", ["y", "y"]), "targets"),
    "bad freq": (lambda c, p, t: p.__setitem__("freq", "not-a-frequency"), "freq"),
}


@pytest.fixture(scope="module")
def answers(forecaster_file, tmp_path_factory):
    """``load_in_subprocess`` of the honest file and every hostile one, two at a time."""
    out = tmp_path_factory.mktemp("hostile")
    paths = {"honest": forecaster_file}
    for i, (case, (edit, _)) in enumerate(FORECASTER_CASES.items()):
        paths[case] = craft(forecaster_file, out / f"case{i}.rnnkit", edit)
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(paths, pool.map(load_in_subprocess, paths.values())))


def test_the_honest_forecaster_file_loads(answers):
    assert answers["honest"]["ok"], answers["honest"]
    assert answers["honest"]["rss_delta_kib"] is not None  # often 0: a small model costs less
    #                                     than the peak the imports reached; then so must a hostile one


@pytest.mark.parametrize("case", FORECASTER_CASES)
def test_a_hostile_forecaster_file_is_refused_in_one_line(answers, case):
    got, honest = answers[case], answers["honest"]
    assert not got["ok"], f"{case}: loaded"
    assert got["traceback"] is None, got["traceback"]
    assert got["kind"] in {"BundleError", "ConfigError"}, got
    message = got["error"]
    assert "\n" not in message and FORECASTER_CASES[case][1] in message, message
    assert "expected" in message and "got" in message, message
    assert got["rss_delta_kib"] <= 2 * honest["rss_delta_kib"], (got["rss_delta_kib"], honest["rss_delta_kib"])


def test_the_message_names_the_range_and_the_fix(answers):
    message = answers["hidden_size=12000"]["error"]
    assert "hidden_size: expected an integer in [1, 4096], got 12000" in message
    assert "use a value in range" in message
    assert "expected 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got 'meta'" in answers["device meta"]["error"]
    assert "F32 shape (48, " in answers["gru config, lstm weights"]["error"]  # 3 gates of 16, not 4
    assert "got I8 shape" in answers["int8 weights"]["error"]


def test_fit_refuses_the_same_bound():
    with pytest.raises(ConfigError, match=r"hidden_size: expected an integer in \[1, 4096\], got 12000"):
        rnnkit.Forecaster(hidden_size=12000).fit(daily_frame(40), time="date", target="y")


# ---- the other tasks, through their v1 model files (in-process) ---------------------------
FILES = {"forecast": "forecast", "anomaly": "anomaly", "classify-series": "classify_series",
         "classify-text": "classify_text", "lm": "lm", "seq2seq": "seq2seq", "asr": "asr"}


def first_weight(t):
    return next(k for k, v in t.items() if v.dtype == torch.float32 and v.ndim == 2)


def duplicate_names(task):
    """An edit that repeats a name the task looks values up by, and the field it names."""
    def vocab(*path):
        def edit(c, p, t):
            d = p
            for key in path:
                d = d[key]
            d["tokens"][-1] = d["tokens"][-2]
        return edit
    return {
        "forecast": (lambda c, p, t: c["columns"].__setitem__("past", ["y"]), "columns"),
        "anomaly": (lambda c, p, t: c["columns"]["channels"].append("y"), "channels"),
        "classify-series": (lambda c, p, t: p.__setitem__("classes", ["up", "up"]), "classes"),
        "classify-text": (vocab("vocabulary"), "vocabulary"),
        "lm": (vocab("vocabulary"), "vocabulary"),
        "seq2seq": (vocab("target", "vocabulary"), "target vocabulary"),
        "asr": (lambda c, p, t: p["features"].__setitem__("n_mels", 10**6), "n_mels"),
        "chat": (vocab("encoder", "vocabulary"), "vocabulary"),
    }[task]


CASES = {
    "device meta": lambda task: (setting("device", "meta"), "device"),
    "hidden_size=1e9": lambda task: (setting("hidden_size", 10**9), "hidden_size"),
    "num_layers=1e6": lambda task: (setting("num_layers", 10**6), "num_layers"),
    "extra tensor": lambda task: (lambda c, p, t: t.__setitem__("model.x", torch.zeros(2)), "'model.x'"),
    "missing tensor": lambda task: (lambda c, p, t: t.pop(first_weight(t)), "missing"),
    "int8 weights": lambda task: (lambda c, p, t: t.__setitem__(first_weight(t), t[first_weight(t)].to(torch.int8)),
                                  "got I8"),
    "duplicate or edited names": duplicate_names,
}


@pytest.fixture(scope="module")
def model_files(tmp_path_factory) -> dict[str, Path]:
    """Each task's model file: the v1 files, and a tiny chat model (a task newer than them)."""
    files = {task: V1 / f"{name}.rnnkit" for task, name in FILES.items()}
    words = ["tea", "cats", "rain", "jazz", "maps", "golf"]
    messages = [f"hi <sep> do you like {w}" for w in words] * 4
    replies = [f"yes i like {w} a lot" for w in words] * 4
    chat = rnnkit.ChatModel(hidden_size=8, embedding_dim=8, vector_size=8, epochs=1, min_freq=1,
                            batch_size=8, progress="none").fit(messages, replies)
    files["chat"] = chat.save(tmp_path_factory.mktemp("chat") / "chat.rnnkit")
    return files


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("task", [*FILES, "chat"])
def test_every_task_refuses_a_file_that_disagrees_with_it(task, case, tmp_path, model_files):
    edit, word = CASES[case](task)
    path = craft(model_files[task], tmp_path / "m.rnnkit", edit)
    with pytest.raises(BundleError) as err:
        rnnkit.load(path)
    message = str(err.value)
    assert "\n" not in message and word in message and "expected" in message, message


@pytest.mark.parametrize("task", [*FILES, "chat"])
def test_a_file_resaved_unchanged_still_loads(task, tmp_path, model_files):
    path = craft(model_files[task], tmp_path / "m.rnnkit", lambda c, p, t: None)
    assert rnnkit.load(path).is_fitted


def test_a_network_too_large_to_load_is_refused_before_it_is_built(tmp_path):
    def huge(c, p, t):  # every setting in range, together 7.8 GiB of LSTM weights
        c["settings"].update(hidden_size=4096, num_layers=16)
    path = craft(V1 / "forecast.rnnkit", tmp_path / "m.rnnkit", huge)
    with pytest.raises(BundleError, match=r"the network its settings imply: expected at most 4 GiB "
                                          r"of parameters, got 7\.8 GiB"):
        rnnkit.load(path)


def test_save_refuses_a_model_too_large_to_load_and_keeps_the_file_there(tmp_path, monkeypatch):
    model = rnnkit.Forecaster(lookback=7, horizon=2, ensemble=1, hidden_size=4, epochs=1, progress="none")
    model.fit(daily_frame(40), time="date", target="y")
    path = model.save(tmp_path / "m.rnnkit")
    before = path.read_bytes()
    monkeypatch.setattr("rnnkit.tasks.core.estimator.MAX_PARAMETER_BYTES", 64)
    with pytest.raises(ConfigError, match=r"Forecaster\.save: the model's tensors: expected at most .* "
                                          r"nothing was written"):
        model.save(path)
    assert path.read_bytes() == before
