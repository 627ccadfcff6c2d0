"""Every task takes ``ema_decay`` (the weights' moving average), checks it, and hands it to
the Trainer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import rnnkit
from rnnkit.errors import ConfigError
from rnnkit.tasks.anomaly.config import AnomalyConfig
from rnnkit.tasks.asr.config import SpeechRecognizerConfig
from rnnkit.tasks.classify_series.config import SequenceClassifierConfig
from rnnkit.tasks.classify_text.config import TextClassifierConfig
from rnnkit.tasks.forecast.config import ForecastConfig
from rnnkit.tasks.lm.config import LanguageModelConfig
from rnnkit.tasks.seq2seq.config import Seq2SeqConfig
from rnnkit.train.trainer import Trainer

CONFIGS = [AnomalyConfig, SpeechRecognizerConfig, SequenceClassifierConfig, TextClassifierConfig,
           ForecastConfig, LanguageModelConfig, Seq2SeqConfig]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.__name__)
def test_every_task_checks_ema_decay(config):
    assert config().ema_decay is None
    config(ema_decay=0.99).validate()
    for bad in (0.0, 1.0, 2.0, "0.9", True):
        with pytest.raises(ConfigError, match="ema_decay"):
            config(ema_decay=bad).validate()


class _Reached(Exception):
    pass


def _series():
    t = np.arange(120)
    return pd.DataFrame({"date": pd.date_range("2020-01-01", periods=120, freq="D"),
                         "y": np.sin(2 * np.pi * t / 7) + 0.01 * t})


@pytest.mark.parametrize("fit", [
    lambda: rnnkit.Forecaster(lookback=14, horizon=3, hidden_size=8, epochs=1, ema_decay=0.95, ensemble=1)
    .fit(_series(), time="date", target="y"),
    lambda: rnnkit.TextClassifier(hidden_size=8, embedding_dim=8, epochs=1, ema_decay=0.95)
    .fit(["good food", "bad food", "very good", "very bad"] * 5, ["pos", "neg", "pos", "neg"] * 5),
    lambda: rnnkit.Seq2Seq(hidden_size=8, embedding_dim=8, epochs=1, min_freq=1, ema_decay=0.95)
    .fit(["a b", "b c", "c a"] * 4, ["b a", "c b", "a c"] * 4),
], ids=["forecast", "classify_text", "seq2seq"])
def test_the_setting_reaches_the_trainer(monkeypatch, fit):
    seen = []

    def spy(self, *args, **kwargs):
        seen.append(self.cfg.ema_decay)
        raise _Reached

    monkeypatch.setattr(Trainer, "fit", spy)
    with pytest.raises(_Reached):
        fit()
    assert seen == [0.95]
