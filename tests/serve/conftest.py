"""Tiny fitted models of each servable task, saved once per test session."""

import numpy as np
import pytest
from serve_helpers import daily_frame, hourly_frame

import rnnkit


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every test here runs its tiny models on one torch thread."""


@pytest.fixture(scope="session")
def forecaster_file(tmp_path_factory):
    # the network alone (guard "keep"): a load test of the batched network path; the guard's
    # baselines in sessions: test_forecast_serving.test_guarded_sessions_equal_predict_on_their_rows
    f = rnnkit.Forecaster(lookback=14, horizon=3, ensemble=1, hidden_size=8, epochs=2, progress="none",
                          guard="keep")
    f.fit(daily_frame(), time="date", target="y", past_covariates=["x"])
    return f.save(tmp_path_factory.mktemp("models") / "daily.rnnkit")


@pytest.fixture(scope="session")
def detector_file(tmp_path_factory):
    d = rnnkit.AnomalyDetector(hidden_size=8, epochs=2, window=16, batch_size=32, seed=0)
    d.fit(hourly_frame().iloc[:400], time="time", columns=["a", "b"])
    return d.save(tmp_path_factory.mktemp("models") / "sensors.rnnkit")


@pytest.fixture(scope="session")
def classifier_file(tmp_path_factory):
    rng = np.random.default_rng(0)
    X = [np.sin(np.arange(n) * (0.3 if k else 1.0))[:, None] + 0.1 * rng.normal(size=(n, 1))
         for k, n in zip([0, 1] * 20, rng.integers(8, 30, 40))]
    y = ["slow" if k else "fast" for k in [0, 1] * 20]
    c = rnnkit.SequenceClassifier(cell="gru", hidden_size=8, epochs=3, seed=0).fit(X, y)
    return c.save(tmp_path_factory.mktemp("models") / "waves.rnnkit")


@pytest.fixture(scope="session")
def text_file(tmp_path_factory):
    good = ["good tasty fresh", "really good", "fresh and good value", "tasty snack", "good good"]
    bad = ["bad stale", "awful and bad", "stale old bad", "not fresh awful", "bad taste"]
    texts, labels = (good + bad) * 4, (["great"] * 5 + ["other"] * 5) * 4
    clf = rnnkit.TextClassifier(cell="gru", hidden_size=8, min_freq=1, epochs=3, max_length=12,
                                progress="none", seed=0)
    clf.fit(texts, labels)
    return clf.save(tmp_path_factory.mktemp("models") / "reviews.rnnkit")


@pytest.fixture(scope="session")
def lm_file(tmp_path_factory):
    texts = ["the cat sat on the mat", "a dog ran in the fog", "the cat and the dog"] * 8
    lm = rnnkit.LanguageModel(tokenizer="char", hidden_size=16, embedding_dim=8, epochs=2, bptt=8,
                              batch_size=4, min_freq=1, seed=0)
    lm.fit(texts)
    return lm.save(tmp_path_factory.mktemp("models") / "tiny_lm.rnnkit")
