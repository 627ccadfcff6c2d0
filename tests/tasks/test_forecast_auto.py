"""The forecaster's automatic settings, window normalisation, ensemble and guard."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import rnnkit
from rnnkit.tasks.forecast import auto
from rnnkit.tasks.forecast.guard import Guard, decide
from rnnkit.tasks.forecast.model import ForecastEnsemble, ForecastNet

pytestmark = pytest.mark.usefixtures("one_thread")
QUICK = dict(hidden_size=8, max_steps=60, progress="none")


def frame(values, start="2020-01-01", freq="D", name="y"):
    return pd.DataFrame({"date": pd.date_range(start, periods=len(values), freq=freq), name: values})


def multiplicative(n=144, seed=0):
    """Monthly, growing level, seasonal swing proportional to the level (airline-like)."""
    t = np.arange(n)
    rng = np.random.default_rng(seed)
    level = 100 * np.exp(0.01 * t)
    return level * (1 + 0.25 * np.sin(2 * np.pi * t / 12)) * np.exp(rng.normal(0, 0.02, n))


# ---- the automatic choices, function by function ------------------------------------------------
def test_a_multiplicative_series_gets_a_log_transform_and_an_additive_one_none():
    assert auto.transform([multiplicative()[:, None]], 12) == "log"
    t = np.arange(144)
    additive = 100 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12) + np.random.default_rng(1).normal(0, 1, 144)
    assert auto.transform([additive[:, None]], 12) is None
    assert auto.transform([(additive - 200)[:, None]], 12) is None  # not positive: never log


def test_lookback_follows_season_and_horizon_and_fits_a_short_series():
    assert auto.lookback(horizon=18, season=12, length=500) == 36
    assert auto.lookback(horizon=14, season=7, length=1000) == 28
    assert auto.lookback(horizon=6, season=1, length=1000) == 12
    short = auto.lookback(horizon=6, season=12, length=60)
    assert short == (60 - 6) // 3  # three lookbacks fit in the series
    assert auto.lookback(horizon=6, season=1, length=21, panel=True) == 12  # M1-like yearly panel
    assert auto.lookback(horizon=48, season=288, length=10**5) == auto.MAX_AUTO_LOOKBACK


def test_steps_grow_with_the_data_but_slowly():
    assert auto.steps(50, 64) == 600  # a 100-point series still gets 600 updates
    small, large = auto.steps(5_000, 64), auto.steps(100_000, 64)
    assert 600 < small < large <= auto.MAX_AUTO_STEPS
    assert large * 64 / 100_000 < 4  # 100,000 windows: a few passes, not dozens
    assert auto.epoch_steps(50, 64) == auto.MIN_EPOCH_STEPS and auto.epoch_steps(64_000, 64) == 1000
    assert [auto.ensemble(w) for w in (100, 5000, 50_000)] == [5, 3, 1]


def test_member_lookbacks_vary_and_stay_in_range():
    assert auto.member_lookbacks(36, 5, 60) == [36, 27, 54, 18, 45]
    assert auto.member_lookbacks(36, 5, 36) == [36, 27, 36, 18, 36]  # a set lookback caps them
    assert min(auto.member_lookbacks(4, 5, 10)) >= 4


# ---- fitted: each choice reported and overridable ---------------------------------------------------
def test_a_pure_seasonal_series_gets_its_season_and_a_seasonal_base():
    t = np.arange(300)
    f = rnnkit.Forecaster(horizon=7, ensemble=1, **QUICK)
    f.fit(frame(10 + np.sin(2 * np.pi * t / 7)), time="date", target="y")
    s = f.settings_
    assert s["season"] == 7 and s["base_lag"] == 7 and s["transform"] == "none"
    assert s["lookback"] == 21 and s["max_steps"] == 60 and s["ensemble"] == 1
    # the network starts at the base and the base is already right: near-perfect forecasts
    pred = f.predict(frame(10 + np.sin(2 * np.pi * t / 7)))["y"].to_numpy()
    np.testing.assert_allclose(pred, 10 + np.sin(2 * np.pi * np.arange(300, 307) / 7), atol=0.05)


def test_a_multiplicative_series_is_fitted_in_logs_and_a_setting_overrides_it():
    df = frame(multiplicative(), freq="MS")
    f = rnnkit.Forecaster(horizon=12, ensemble=1, **QUICK).fit(df, time="date", target="y")
    assert f.settings_["transform"] == "log" and f.settings_["season"] == 12
    g = rnnkit.Forecaster(horizon=12, ensemble=1, transform="none", season=6, lookback=20, **QUICK)
    g.fit(df, time="date", target="y")
    assert g.settings_["transform"] == "none" and g.settings_["season"] == 6 and g.settings_["lookback"] == 20


def test_a_sixty_point_series_gets_a_lookback_that_fits_and_forecasts():
    rng = np.random.default_rng(3)
    df = frame(50 + np.cumsum(rng.normal(0, 1, 60)), freq="MS")
    f = rnnkit.Forecaster(horizon=6, **QUICK).fit(df, time="date", target="y")
    assert f.settings_["lookback"] <= (60 - 6) // 3 * 1.5 + 1
    assert f.settings_["ensemble"] == 5 and len(f.predict(df)) == 6


def test_a_trend_beyond_the_training_range_is_followed():
    """Window normalisation: a level never seen in training is just another window."""
    t = np.arange(400.0)
    df = frame(5 + 0.5 * t + np.sin(2 * np.pi * t / 7))
    f = rnnkit.Forecaster(horizon=7, ensemble=1, guard="keep", hidden_size=16, max_steps=300,
                          progress="none").fit(df.iloc[:300], time="date", target="y")
    pred = f.predict(df)["y"].to_numpy()  # from t = 400, far above anything in training
    truth = 5 + 0.5 * np.arange(400, 407) + np.sin(2 * np.pi * np.arange(400, 407) / 7)
    assert np.abs(pred - truth).mean() < 1.0


# ---- the ensemble --------------------------------------------------------------------------------
class Constant(torch.nn.Module):
    def __init__(self, value):
        super().__init__()
        self.value = value
        self.horizon = 2

    def forward(self, past, future, static):
        assert past.shape[1] == self.value  # each member reads its own lookback
        return torch.full((past.shape[0], 2, 1, 3), float(self.value))


def test_the_ensemble_is_the_median_of_its_members_each_on_its_own_window():
    past = torch.zeros(4, 9, 1)
    odd = ForecastEnsemble([Constant(v) for v in (5, 9, 2)], [5, 9, 2])
    assert torch.equal(odd(past, None, None), torch.full((4, 2, 1, 3), 5.0))
    even = ForecastEnsemble([Constant(v) for v in (2, 4, 9, 8)], [2, 4, 9, 8])
    assert torch.equal(even(past, None, None), torch.full((4, 2, 1, 3), 6.0))


def test_a_window_normalised_network_starts_at_its_base():
    net = ForecastNet(n_inputs=1, n_targets=1, horizon=3, n_future=0, n_static=0, n_outputs=3,
                      hidden_size=4, base_lag=2, window_norm=True)
    past = torch.tensor([[[1.0], [5.0], [2.0], [7.0]]])
    out = net(past, torch.zeros(1, 3, 0), torch.zeros(1, 0))
    assert torch.equal(out[0, :, 0, 0], torch.tensor([2.0, 7.0, 2.0]))  # seasonal naive, lag 2
    gaussian = ForecastNet(n_inputs=1, n_targets=1, horizon=3, n_future=0, n_static=0, n_outputs=2,
                           hidden_size=4, window_norm=True, gaussian=True)
    delta, base, scale = gaussian.normalised(past, torch.zeros(1, 3, 0), torch.zeros(1, 0))
    raw = gaussian.denormalise(delta, base, scale)[..., 1]
    sigma = torch.nn.functional.softplus(raw) + 1e-4
    expected = scale * (torch.nn.functional.softplus(delta[..., 1]) + 1e-4)
    torch.testing.assert_close(sigma, expected)  # σ scales with the window's step size


# ---- the guard -----------------------------------------------------------------------------------
def test_decisions_follow_the_mode():
    lost = {"network": 1.3, "naive": 1.0, "seasonal_naive": 1.2, "combined": 1.1}
    names = ["naive", "seasonal_naive"]
    assert decide("keep", lost, names).use == "network"
    assert decide("fallback", lost, names).use == "baseline"
    assert decide("combine", lost, names).use == "combined"
    assert decide("auto", lost, names).use == "baseline"
    assert decide("auto", {**lost, "combined": 0.9}, names).use == "combined"
    won = {"network": 0.8, "naive": 1.0, "seasonal_naive": 1.2, "combined": 0.9}
    assert {decide(m, won, names).use for m in ("keep", "fallback", "combine", "auto")} == {"network"}
    assert decide("fallback", lost, names).baseline == "naive"


def test_the_guard_keeps_white_noise_no_worse_than_the_best_baseline():
    rng = np.random.default_rng(7)
    df = frame(rng.normal(0, 1, 400))
    f = rnnkit.Forecaster(horizon=7, ensemble=1, max_steps=30, hidden_size=8, progress="none")
    f.fit(df, time="date", target="y")
    d = f.guard_.decision(None)
    best = min(d.scores[b] for b in ("naive", "seasonal_naive", "drift", "ets"))
    chosen = {"network": d.scores["network"], "combined": d.scores["combined"], "baseline": best}[d.use]
    assert chosen <= best + 1e-12  # what predict uses was no worse on validation
    kept = rnnkit.Forecaster(horizon=7, ensemble=1, max_steps=30, hidden_size=8, progress="none",
                             guard="keep").fit(df, time="date", target="y")
    assert kept.guard_.decision(None).use == "network"
    if d.use != "network":  # the report says where the network lost, and the forecasts differ
        assert f.settings_["guard"]["network_lost_on"] == ["None"] or d.use == "combined"
        table = f.evaluate(df, origins=3).table
        assert {"rnnkit", "network"} <= set(table.index)


def test_guard_decisions_survive_save_and_load(tmp_path):
    rng = np.random.default_rng(8)
    df = frame(rng.normal(0, 1, 200))
    f = rnnkit.Forecaster(horizon=5, ensemble=3, max_steps=20, hidden_size=4, progress="none")
    f.fit(df, time="date", target="y")
    back = rnnkit.load(f.save(tmp_path / "m.rnnkit"))
    assert back.guard_.to_dict() == f.guard_.to_dict() and back.settings_ == f.settings_
    pd.testing.assert_frame_equal(back.predict(df), f.predict(df))
    assert isinstance(Guard.from_dict(f.guard_.to_dict()), Guard)


# ---- panels --------------------------------------------------------------------------------------
def test_a_panel_of_series_with_different_lengths_and_starts():
    rng = np.random.default_rng(5)
    parts = []
    for k, (start, n) in enumerate([("2020-01-01", 90), ("2020-03-15", 150), ("2021-01-01", 60)]):
        t = np.arange(n)
        y = (k + 1) * 100 + (k + 1) * 10 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 1, n)
        parts.append(frame(y, start=start).assign(id=f"s{k}"))
    df = pd.concat(parts, ignore_index=True)
    f = rnnkit.Forecaster(horizon=7, **QUICK).fit(df, time="date", target="y", id="id")
    pred = f.predict(df)
    assert set(pred["id"]) == {"s0", "s1", "s2"} and len(pred) == 21
    assert set(f.guard_.decisions) == {"s0", "s1", "s2"}
    for k in range(3):  # each series forecast in its own units
        assert abs(pred.loc[pred.id == f"s{k}", "y"].mean() - (k + 1) * 100) < 15 * (k + 1)
    assert f.settings_["lookback"] <= 60


def test_a_panel_pads_the_windows_of_its_short_series():
    """Yearly panels (M1, M3) hold series shorter than a sensible lookback: their windows are
    padded with the first value instead of refusing the panel."""
    rng = np.random.default_rng(6)
    parts = [frame(100 + np.cumsum(rng.normal(1, 2, n)), start="1960-01-01", freq="YS").assign(id=f"s{k}")
             for k, n in enumerate([9, 12, 30, 40, 45, 50])]
    df = pd.concat(parts, ignore_index=True)
    f = rnnkit.Forecaster(horizon=6, **QUICK).fit(df, time="date", target="y", id="id")
    assert f.settings_["season"] == 1 and f.min_rows_ == 3 and f.lookback_ > 9
    pred = f.predict(df)
    assert len(pred) == 36 and np.isfinite(pred["y"]).all()
    table = f.evaluate(df, origins=1).table  # the 9-row series is scored too
    assert np.isfinite(table.loc["rnnkit", "MASE"])
    with pytest.raises(rnnkit.errors.DataError, match=r"series 's0' length: expected >= 3 \+ horizon = 9"):
        f.fit(df[df.id != "s0"].pipe(lambda d: pd.concat([d, d[d.id == "s1"].head(5).assign(id="s0")])),
              time="date", target="y", id="id")


def test_a_series_too_short_for_validation_gets_an_interval_that_holds_the_baselines():
    rng = np.random.default_rng(9)
    df = frame(10 + np.sin(2 * np.pi * np.arange(16) / 7) + rng.normal(0, 1, 16))  # no room to validate
    f = rnnkit.Forecaster(horizon=7, ensemble=1, **QUICK).fit(df, time="date", target="y")
    d = f.guard_.decision(None)
    assert d.widen and d.use == "combined" and f.settings_["guard"]["unvalidated"] == ["None"]
    from rnnkit.cli.forecast import chosen_settings  # what rnnkit train prints

    printed = chosen_settings(f)
    assert "season 7 (freq D)" in printed and "too short to validate: the series" in printed
    kept = rnnkit.Forecaster(horizon=7, ensemble=1, guard="keep", **QUICK).fit(df, time="date", target="y")
    assert not kept.guard_.decision(None).widen and kept.guard_.decision(None).use == "network"
    fallback = rnnkit.Forecaster(horizon=7, ensemble=1, guard="fallback", **QUICK).fit(df, time="date", target="y")
    assert fallback.guard_.decision(None).use == "network"  # nothing says the network lost
    pred, network = fallback.predict(df), kept.predict(df)  # the same network (same seed)
    np.testing.assert_allclose(pred["y"], network["y"])  # only the interval differs: wider
    assert (pred["y_lower"] <= network["y_lower"] + 1e-9).all() and (pred["y_upper"] >= network["y_upper"] - 1e-9).all()
    combined = f.predict(df)["y"].to_numpy()
    from rnnkit.tasks.forecast.baselines import BASELINES
    base = BASELINES[d.baseline](df["y"].to_numpy(), 7, 7, 0.8)[0]
    np.testing.assert_allclose(combined, (network["y"].to_numpy() + base) / 2, rtol=1e-6)
