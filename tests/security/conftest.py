"""Fitted models the hostile-input tests attack, saved once per test session."""

import pytest
from security_helpers import daily_frame

import rnnkit


@pytest.fixture(autouse=True)
def _one_thread(one_thread):
    """Every test here runs its tiny models on one torch thread."""


@pytest.fixture(scope="session")
def forecaster_file(tmp_path_factory):
    """A forecaster like the quickstart's: daily target ``y``, past covariate ``x``."""
    f = rnnkit.Forecaster(lookback=14, horizon=3, ensemble=1, hidden_size=16, epochs=2, progress="none", seed=0)
    f.fit(daily_frame(), time="date", target="y", past_covariates=["x"])
    return f.save(tmp_path_factory.mktemp("models") / "daily.rnnkit")
