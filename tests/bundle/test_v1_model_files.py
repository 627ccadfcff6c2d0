"""Model files written before the estimator core (rnnkit at commit f0e2eb9, by
tests/fixtures/v1_models/make.py) load with today's rnnkit and predict what they did."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import rnnkit

HERE = Path(__file__).resolve().parents[1] / "fixtures" / "v1_models"
EXPECTED = json.loads((HERE / "expected.json").read_text())
TEXTS = ["good great fine tasty", "bad awful poor stale", "great tasty good", "poor bad awful"]
SOURCES = [" ".join(s.split()[::-1]) for s in TEXTS]


def predictions(name: str, est):
    df = pd.read_csv(HERE / "series.csv")
    if name == "forecast":
        return est.predict(df)["y"].tolist()
    if name == "anomaly":
        return est.detect(df).points.score.fillna(-1).tolist()
    if name == "classify-series":
        X = [np.array(x) for x in json.loads((HERE / "series_X.json").read_text())]
        return est.predict_proba(X).tolist()
    if name == "classify-text":
        return est.predict_proba(TEXTS).tolist()
    if name == "lm":
        return est.stream().step("good bad").probabilities.tolist()
    if name == "seq2seq":
        return est.translate(SOURCES)
    return est.transcribe([str(HERE / f"u{i}.wav") for i in range(3)], beam=1, constrain=False)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_v1_model_file_loads_and_predicts_the_same(name):
    est = rnnkit.load(HERE / f"{name.replace('-', '_')}.rnnkit")
    assert est.task_name == name and est.is_fitted
    got, want = predictions(name, est), EXPECTED[name]
    if want and isinstance(want[0], str):
        assert got == want
    else:
        np.testing.assert_allclose(np.array(got, dtype=float), np.array(want, dtype=float), atol=1e-6)
    assert est.settings_ == {**est.config.to_dict(), **est.settings_}  # every setting is reported
