"""The contract all eight estimators share, checked on each with tiny settings.

``fit`` returns ``self``; ``sklearn.base.clone`` gives an unfitted copy with equal params;
an unfitted estimator raises ``NotFittedError``; save -> ``rnnkit.load`` gives equal
predictions; ``stream()``, where the task has one, equals the batch result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from sklearn.base import clone

import rnnkit
from rnnkit.errors import NotFittedError

RNG = np.random.default_rng(0)


@dataclass
class Case:
    make: Callable[[], Any]  # an unfitted estimator with tiny settings
    fit: Callable[[Any], Any]  # est -> est.fit(...)
    predict: Callable[[Any], Any]  # est -> predictions (arrays, frames, lists)
    stream: Callable[[Any], tuple[Any, Any]] | None = None  # est -> (streamed, batch)


def series_frame(n: int = 90) -> pd.DataFrame:
    t = np.arange(n)
    y = 10 + 3 * np.sin(2 * np.pi * t / 7) + RNG.normal(0, 0.3, n)
    return pd.DataFrame({"date": pd.date_range("2024-01-01", periods=n, freq="D"), "y": y})


def forecast_case() -> Case:
    df = series_frame()

    def stream(f):
        s = f.stream()
        outs = [s.step(row) for row in df.to_dict(orient="records")]
        return outs[-1], f.predict(df)

    return Case(lambda: rnnkit.Forecaster(lookback=8, horizon=3, hidden_size=8, epochs=2),
                lambda f: f.fit(df, time="date", target="y"), lambda f: f.predict(df), stream)


def anomaly_case() -> Case:
    df = series_frame(120)

    def stream(d):
        s = d.stream()
        results = [r for r in (s.step(row) for row in df[["y"]].to_dict("records")) if r is not None]
        index = np.array([r.index for r in results])
        return np.array([r.score for r in results]), d.detect(df).points.score.to_numpy()[index]

    return Case(lambda: rnnkit.AnomalyDetector(hidden_size=8, epochs=2, window=16),
                lambda d: d.fit(df, time="date", columns="y"),
                lambda d: d.detect(df).points.score.to_numpy(), stream)


def classify_series_case() -> Case:
    X = [RNG.normal(size=(int(RNG.integers(5, 12)), 2)) + (i % 2) for i in range(40)]
    y = ["up" if i % 2 else "down" for i in range(40)]
    return Case(lambda: rnnkit.SequenceClassifier(hidden_size=8, epochs=2),
                lambda c: c.fit(X, y), lambda c: c.predict_proba(X))


TEXTS = ["good great fine tasty", "bad awful poor stale", "great tasty good", "poor bad awful"] * 10
LABELS = ["pos", "neg", "pos", "neg"] * 10


def classify_text_case() -> Case:
    return Case(lambda: rnnkit.TextClassifier(hidden_size=8, attention_size=8, epochs=2, min_freq=1),
                lambda c: c.fit(TEXTS, LABELS), lambda c: c.predict_proba(TEXTS[:4]))


def lm_case() -> Case:
    def stream(lm):
        s = lm.stream()
        step = [s.step(ch).probabilities for ch in "good"][-1]
        return step, lm.stream().step("good").probabilities

    return Case(lambda: rnnkit.LanguageModel(hidden_size=16, embedding_dim=8, batch_size=4, bptt=8,
                                             epochs=1, min_freq=1),
                lambda lm: lm.fit(TEXTS),
                lambda lm: lm.stream().step("good bad").probabilities, stream)


def seq2seq_case() -> Case:
    sources = [" ".join(t.split()[::-1]) for t in TEXTS]
    return Case(lambda: rnnkit.Seq2Seq(hidden_size=16, embedding_dim=8, epochs=1, min_freq=1),
                lambda m: m.fit(sources, TEXTS), lambda m: m.translate(sources[:4]))


def chat_case() -> Case:
    messages = [f"hello <sep> {t}" for t in TEXTS]
    replies = [" ".join(t.split()[::-1]) for t in TEXTS]
    return Case(lambda: rnnkit.ChatModel(hidden_size=8, embedding_dim=8, vector_size=8, epochs=1,
                                         batch_size=8, min_freq=1),
                lambda m: m.fit(messages, replies),
                lambda m: [text for text, _ in m.replies("good great", k=3)])


@pytest.fixture(scope="module")
def tones(tmp_path_factory) -> pd.DataFrame:
    """A manifest of two-word 'utterances': each word a tone of its own pitch."""
    folder = tmp_path_factory.mktemp("tones")
    pitch, rows, rate = {"low": 220.0, "high": 660.0}, [], 16000
    for i in range(16):
        words = [("low", "high")[(i >> k) & 1] for k in range(2)]
        t = np.arange(int(0.25 * rate)) / rate
        wave = np.concatenate([np.sin(2 * np.pi * pitch[w] * t) * 0.5 for w in words]).astype(np.float32)
        path = folder / f"u{i}.wav"
        sf.write(path, wave, rate)
        rows.append({"path": str(path), "transcript": " ".join(words)})
    return pd.DataFrame(rows)


def asr_case(manifest: pd.DataFrame) -> Case:
    wave = sf.read(manifest.path[0], dtype="float32")[0]

    def stream(rec):
        s = rec.stream(every_seconds=0.1)  # a partial for every chunk
        partials = [s.feed(wave[i:i + 1600]) for i in range(0, len(wave), 1600)]
        return partials[-1], rec.transcribe(wave, beam=1, constrain=False)[0]

    return Case(lambda: rnnkit.SpeechRecognizer(hidden_size=8, conv_channels=4, epochs=1, val_fraction=0.2,
                                                        bidirectional=False),
                lambda r: r.fit(manifest), lambda r: r.transcribe(list(manifest.path[:3])), stream)


CASES = {"forecast": forecast_case, "anomaly": anomaly_case, "classify-series": classify_series_case,
         "classify-text": classify_text_case, "lm": lm_case, "seq2seq": seq2seq_case, "asr": asr_case,
         "chat": chat_case}


@pytest.fixture(params=sorted(CASES), scope="module")
def fitted(request, tones, tmp_path_factory):
    name = request.param
    case = CASES[name](tones) if name == "asr" else CASES[name]()
    est = case.make()
    assert case.fit(est) is est  # fit returns self
    return name, case, est, tmp_path_factory.mktemp(name.replace("-", "_"))


def assert_same(a, b) -> None:
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b)
    elif isinstance(a, (list, tuple)) and a and isinstance(a[0], str):
        assert list(a) == list(b)
    elif isinstance(a, str):
        assert a == b
    else:
        np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), atol=1e-5)


def test_the_task_name_is_registered(fitted):
    name, _, est, _ = fitted
    assert est.task_name == name
    assert isinstance(est, rnnkit.tasks.core.Estimator)


def test_clone_is_unfitted_with_equal_params(fitted):
    _, case, est, _ = fitted
    copy = clone(est)
    assert type(copy) is type(est) and not copy.is_fitted
    assert copy.get_params() == est.get_params()
    with pytest.raises(NotFittedError, match="not fitted yet"):
        case.predict(copy)
    with pytest.raises(NotFittedError, match=type(est).__name__):
        copy.save("never.rnnkit")


def test_set_params_refuses_unknown_names(fitted):
    _, case, _, _ = fitted
    est = case.make()
    with pytest.raises(rnnkit.errors.ConfigError, match="unknown"):
        est.set_params(no_such_setting=1)
    assert est.set_params(seed=3).get_params()["seed"] == 3


def test_save_load_gives_equal_predictions(fitted):
    _, case, est, folder = fitted
    back = rnnkit.load(est.save(folder / "model.rnnkit"))
    assert type(back) is type(est) and back.get_params() == est.get_params()
    assert_same(case.predict(back), case.predict(est))
    assert back.settings_ == est.settings_


def test_stream_equals_batch(fitted):
    _, case, est, _ = fitted
    if case.stream is None:
        pytest.skip("this task has no stream")
    streamed, batch = case.stream(est)
    assert_same(streamed, batch)
