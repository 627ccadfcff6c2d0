"""``Forecaster``: fit, predict, evaluate (backtest against baselines), save and load.

>>> import rnnkit
>>> from rnnkit.data import datasets
>>> df = datasets.load("seattle-weather")
>>> f = rnnkit.Forecaster(cell="lstm", lookback=56, horizon=7, epochs=2)
>>> f = f.fit(df, time="date", target="temp_max")
>>> forecast = f.predict(df)           # one row per step ahead, with interval bounds
>>> list(forecast.columns)
['date', 'step', 'temp_max', 'temp_max_lower', 'temp_max_upper']

It stands on the estimator core (:class:`~rnnkit.tasks.core.Estimator`): scikit-learn's
contract, the model-file template and the shared training settings.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from rnnkit.data.calendar import future_times, step_days
from rnnkit.data.frames import SeriesSet, read_series
from rnnkit.errors import DataError, problem
from rnnkit.tasks.core import BundleParts, Estimator
from rnnkit.tasks.forecast import auto, backtest as bt, stored
from rnnkit.tasks.forecast.baselines import available
from rnnkit.tasks.forecast.config import ForecastConfig
from rnnkit.tasks.forecast.features import NetworkInputs, Scalers, SeriesFeatures, fit_scalers
from rnnkit.tasks.forecast.guard import Decision, Guard, history_rows, validation_pairs
from rnnkit.tasks.forecast.likelihood import Likelihood
from rnnkit.tasks.forecast.model import ForecastEnsemble, ForecastNet
from rnnkit.tasks.forecast.training import PANEL_MIN_ROWS, MemberTraining
from rnnkit.tasks.registry import register_task
from rnnkit.train.devices import select_device

DEFAULT_BASELINES = ("naive", "seasonal_naive", "drift", "ets")


def input_stats(series: SeriesSet) -> dict[str, dict[str, float]]:
    """Mean and std of each target and past covariate over all training rows (data units):
    the reference a server compares live traffic with (input drift)."""
    names = [*series.targets, *series.past_names]
    rows = np.vstack([np.hstack([v, p]) for v, p in zip(series.values, series.past)])  # (sum T, C+P)
    return {n: {"mean": float(rows[:, j].mean()), "std": float(rows[:, j].std())}
            for j, n in enumerate(names)}


def default_season(freq: str) -> int:
    """Seasonal period in steps for a frequency: a week of days (5 business days), a day of
    hours, a year of weeks or months."""
    if isinstance(pd.tseries.frequencies.to_offset(freq), pd.offsets.BusinessDay):
        return 5  # a week of business days
    days = step_days(freq)
    if days < 1 / 23:
        return 24 * 60 // max(int(round(days * 24 * 60)), 1)  # sub-hourly: one day
    if days < 0.9:
        return 24
    if days < 1.5:
        return 7
    if days < 8:
        return 52
    if days < 32:
        return 12
    return 4 if days < 100 else 1


@register_task("forecast")
class Forecaster(MemberTraining, Estimator):
    """Probabilistic multi-horizon forecaster with a recurrent encoder (see ``ForecastConfig``
    for every setting)."""

    Config = ForecastConfig
    FIT_CALL = "fit(data, time=..., target=...)"
    FILE_CONFIG, FILE_PREPROCESSING, TENSOR_PREFIX = stored.FILE_CONFIG, stored.FILE_PREPROCESSING, ""

    def __init__(self, cell: str = "lstm", lookback: int | None = None, horizon: int = 7,
                 **settings) -> None:
        super().__init__(cell=cell, lookback=lookback, horizon=horizon, **settings)

    # ---- fitting ----------------------------------------------------------------------------
    def fit(self, data, *, time: str, target: str | list[str], id: str | None = None,
            past_covariates: list[str] = (), static_covariates: list[str] = (),
            out_dir: str | Path | None = None, resume: bool = False) -> "Forecaster":
        """Train on ``data`` (DataFrame or CSV/Parquet path); returns ``self``.

        ``out_dir`` keeps checkpoints, metrics.csv and the training curve; ``resume=True``
        continues a killed run from its checkpoint there.
        """
        cfg = self.config
        cfg.validate()
        self.likelihood_ = Likelihood(cfg.likelihood, tuple(cfg.quantiles), cfg.interval)
        self.columns_ = dict(time=time, targets=[target] if isinstance(target, str) else list(target),
                             id=id, past=list(past_covariates), static=list(static_covariates))
        raw = series = self._read(data, cfg.freq)
        self.freq_ = series.freq
        self.season_ = cfg.season or default_season(series.freq)
        lengths = [len(v) for v in series.values]
        self.panel_ = len(lengths) > 1
        typical = int(np.median(lengths))
        self.lookback_ = cfg.lookback or auto.lookback(cfg.horizon, self.season_, typical, self.panel_)
        if self.panel_:  # a shorter series' windows are padded with its first value
            self._check_length(series, PANEL_MIN_ROWS + cfg.horizon, f"{PANEL_MIN_ROWS} + horizon")
        else:
            self._check_length(series, self.lookback_ + cfg.horizon + 1, "lookback + horizon + 1")
        self.input_stats_ = input_stats(series)
        self.transform_ = self._choose_transform(series)
        series = self._to_model_units(series)
        splits = self._splits(series)
        self.scalers_ = fit_scalers(series, splits)
        feats = SeriesFeatures(series, self.scalers_, cfg.horizon, cfg.calendar)
        windows = len(self._pairs(series, splits, self.lookback_)[0])
        members = cfg.ensemble or auto.ensemble(windows)
        self.lookbacks_ = auto.member_lookbacks(self.lookback_, members, self._longest(typical))
        self.base_lag_ = self._choose_base(feats, self._pairs(series, splits, max(self.lookbacks_))[0])
        self.steps_ = cfg.max_steps or (None if cfg.epochs else auto.steps(windows, cfg.batch_size))
        self.dims_ = dict(n_inputs=feats.n_inputs, n_future=feats.n_future, n_static=feats.static.shape[1],
                          n_targets=len(series.targets), lookbacks=self.lookbacks_, base_lag=self.base_lag_)
        nets, self.history_ = [], None
        for k, L in enumerate(self.lookbacks_):
            torch.manual_seed(cfg.seed + k)
            net = self._member()
            train, val = self._pairs(series, splits, L)
            history = self._train(net, feats, train, val, L, cfg.seed + k,
                                  self._member_dir(out_dir, k), resume)
            nets.append(net)
            self.history_ = self.history_ or history  # the first member's curve
        self.model_ = nets[0] if len(nets) == 1 else ForecastEnsemble(nets, self.lookbacks_)
        self.lookback_ = max(self.lookbacks_)  # the rows a forecast reads
        self.model_.eval()
        self.train_end_ = {str(k): str(t[-1]) for k, t in zip(series.ids, series.times)}
        self.guard_ = self._fit_guard(raw, splits)
        return self

    @property
    def min_rows_(self) -> int:
        """Rows a series needs for a forecast: the lookback, or for a panel model
        :data:`PANEL_MIN_ROWS` (a shorter window is padded with the series' first value)."""
        return PANEL_MIN_ROWS if getattr(self, "panel_", False) else self.lookback_

    def _fit_guard(self, series: SeriesSet, splits: list[int]) -> Guard:
        """Score the network against the baselines on each series' validation windows."""
        cfg = self.config
        pairs = validation_pairs([len(v) for v in series.values], splits, self._first_origin(max(self.lookbacks_)),
                                 cfg.horizon)
        network = self._forecast(series, pairs, splits) if pairs else None
        return Guard.fit(cfg.guard, series, pairs, network, cfg.horizon, self.season_, self._level(),
                         self.history_rows_)

    @property
    def history_rows_(self) -> int:
        """Rows of history a forecast reads: the network's window and what the guard's
        baselines read (``max(lookback, 10 season, 200)``); a stream or a server session
        keeps this many."""
        self.check_fitted()
        return history_rows(self.lookback_, self.season_)

    def _level(self) -> float:
        return self.likelihood_.interval_level or self.config.interval

    def _read(self, data, freq: str | None, fitted: bool = False) -> SeriesSet:
        """The validated series of ``data`` (the fitted columns), resampled to ``freq``;
        ``fitted``: read for this fitted model (a missing column is the model's)."""
        c = self.columns_
        return read_series(data, time=c["time"], targets=c["targets"], id=c["id"], past=c["past"],
                           static=c["static"], freq=freq, fill=self.config.fill,
                           model="Forecaster" if fitted else None)

    def _to_model_units(self, series: SeriesSet) -> SeriesSet:
        """The series as the network sees them: log-transformed when the transform is log."""
        if self.transform_ != "log":
            return series
        for key, values in zip(series.ids, series.values):
            if (values <= 0).any():
                name = "" if key is None else f" {key!r}"
                raise DataError(problem(f"transform='log': series{name}", expected="values > 0",
                                        got=f"minimum {values.min()}", fix="use transform='none'"))
        return dataclasses.replace(series, values=[np.log(v) for v in series.values])

    def _from_model_units(self, f: "bt.Forecasts") -> "bt.Forecasts":
        if self.transform_ != "log":
            return f
        exp = lambda a: None if a is None else np.exp(a)  # noqa: E731
        return bt.Forecasts(exp(f.point), exp(f.lower), exp(f.upper))

    def _forecast(self, series: SeriesSet, pairs, scale_ends=None) -> "bt.Forecasts":
        """Network forecasts of (series, origin) pairs, in data units."""
        device = next(self.model_.parameters()).device
        feats = self._features(self._to_model_units(series), scale_ends)
        f = bt.network_forecasts(self.model_, self.likelihood_, feats, pairs, self.lookback_, device)
        return self._from_model_units(f)

    def forecasts(self, series: SeriesSet, pairs, scale_ends=None) -> "bt.Forecasts":
        """The forecasts :meth:`predict` gives for ``(series, origin)`` pairs of ``series`` (a
        :meth:`read` SeriesSet), in data units, ``(W, H, C)`` arrays: the network's, after
        the guard's decision for each series (network, combined with a baseline, or the
        baseline). ``scale_ends``: per series, where the history of an unknown series ends
        for its scaler (default: its whole length)."""
        network = self._forecast(series, pairs, scale_ends)
        return self.guard_.apply(series, pairs, network, self.config.horizon, self.season_,
                                 self._level(), self.history_rows_)

    def _check_length(self, series: SeriesSet, need: int, rule: str) -> None:
        for key, values in zip(series.ids, series.values):
            if len(values) < need:
                name = "" if key is None else f" {key!r}"
                raise DataError(problem(f"series{name} length", expected=f">= {rule} = {need} rows",
                                        got=len(values), fix="use a smaller lookback or horizon, "
                                        "or more data"))

    # ---- using ------------------------------------------------------------------------------
    def _features(self, series: SeriesSet, scale_ends=None) -> SeriesFeatures:
        return SeriesFeatures(series, self.scalers_, self.config.horizon, self.config.calendar, scale_ends)

    def read(self, data) -> SeriesSet:
        """The series of ``data`` (DataFrame or CSV/Parquet path) as this model reads them:
        the fitted target, covariate and id columns, checked and at the model's frequency;
        ``values[i]`` is ``(T_i, C)`` in data units."""
        self.check_fitted()
        return self._read(data, self.freq_, fitted=True)

    def network_inputs(self, data, index: int = 0) -> NetworkInputs:
        """The tensors the network reads to forecast the ``horizon`` steps after the last row
        of series ``index`` of ``data`` (a DataFrame, path, or a :meth:`read` SeriesSet):
        ``past`` ``(1, L, F_in)``, ``future`` ``(1, H, F_cal)``, ``static`` ``(1, S)``, scaled as
        :meth:`predict` scales them, so ``model_(inputs.past, inputs.future, inputs.static)``
        is the forecast ``predict`` returns (``inputs.to_data_units`` undoes the scaling)."""
        self.check_fitted()
        series = data if isinstance(data, SeriesSet) else self.read(data)
        self._check_length(series, self.lookback_, "lookback")
        if not 0 <= index < len(series.values):
            raise DataError(problem("network_inputs: index", expected=f"a series position in "
                                    f"[0, {len(series.values)})", got=index))
        feats = self._features(self._to_model_units(series))
        w = feats.windows([(index, len(series.values[index]))], self.lookback_)
        return NetworkInputs(w["past"], w["future"], w["static"], feats, index,
                             log=self.transform_ == "log")

    def predict(self, data) -> pd.DataFrame:
        """Forecast the ``horizon`` steps after the end of each series in ``data``.

        Returns one row per series and step ahead: the time, ``step`` (1..H) and per target
        the point forecast and, for probabilistic models, ``_lower`` / ``_upper`` bounds.
        """
        series = self.read(data)
        self._check_length(series, self.min_rows_, "lookback")
        pairs = [(i, len(v)) for i, v in enumerate(series.values)]
        return self.forecast_table(series, pairs, self.forecasts(series, pairs))

    def forecast_table(self, series: SeriesSet, pairs, f: "bt.Forecasts") -> pd.DataFrame:
        """Forecasts in data units -> the DataFrame :meth:`predict` returns: for each
        ``(series, origin)`` pair, ``horizon`` rows (time, ``step``, and per target the point
        forecast and ``_lower`` / ``_upper`` bounds). ``f`` holds ``(W, H, C)`` arrays."""
        c, H, rows = self.columns_, self.config.horizon, []
        for w, (i, o) in enumerate(pairs):
            times = future_times(series.times[i][o - 1], series.freq, H)
            part = pd.DataFrame({c["time"]: times, "step": np.arange(1, H + 1)})
            if c["id"] is not None:
                part.insert(0, c["id"], series.ids[i])
            for k, name in enumerate(c["targets"]):
                part[name] = f.point[w, :, k]
                if f.lower is not None:
                    part[f"{name}_lower"] = f.lower[w, :, k]
                    part[f"{name}_upper"] = f.upper[w, :, k]
            rows.append(part)
        return pd.concat(rows, ignore_index=True)

    def evaluate(self, data, *, origins: int = 5, baselines=DEFAULT_BASELINES) -> bt.BacktestResult:
        """Rolling-origin backtest over the last ``origins`` windows of each series in ``data``,
        with the baselines in the same table. Scores are out-of-sample only for windows after
        the training data; use :meth:`backtest` to fit and score in one honest step."""
        cfg = self.config
        series = self.read(data)
        L = self.min_rows_
        self._check_length(series, L + cfg.horizon, "lookback + horizon")
        pairs = bt.origins([len(v) for v in series.values], L, cfg.horizon, origins)
        if not pairs:
            raise DataError(problem("evaluate: data", expected=f"series of at least lookback + "
                                    f"horizon = {L + cfg.horizon} rows", got="none long enough"))
        first = {}
        for i, o in pairs:
            first[i] = min(first.get(i, o), o)
        ends = [first.get(i, len(v)) for i, v in enumerate(series.values)]
        network = self._forecast(series, pairs, ends)
        level = self._level()
        forecasts = {"rnnkit": self.guard_.apply(series, pairs, network, cfg.horizon, self.season_, level,
                                                 self.history_rows_)}
        if any(self.guard_.decision(k).use != "network" for k in series.ids):
            forecasts["network"] = network  # the network alone, where the guard changed something
        for name in available(baselines):
            forecasts[name] = bt.baseline_forecasts(name, series, pairs, cfg.horizon, self.season_, level)
        table, actual = bt.score(series, pairs, cfg.horizon, self.season_, forecasts)
        self.metrics_ = table.to_dict(orient="index")
        return bt.BacktestResult(table, pairs, actual, forecasts, series)

    def backtest(self, data, *, time: str, target, origins: int = 5, baselines=DEFAULT_BASELINES,
                 **columns) -> bt.BacktestResult:
        """Fit on everything before the first backtest origin, then :meth:`evaluate` —
        nothing from the scored windows reaches training or scaling."""
        cut = self.config.horizon * origins
        frame = data if isinstance(data, pd.DataFrame) else None
        if frame is None:
            from rnnkit.data.frames import read_table

            frame = read_table(data)
        id_col = columns.get("id")
        if id_col is not None and id_col in frame.columns and time in frame.columns:
            ordered = frame.sort_values([id_col, time])
            history = ordered[ordered.groupby(id_col).cumcount(ascending=False) >= cut]
        elif time in frame.columns:
            history = frame.sort_values(time).iloc[:-cut]
        else:
            history = frame  # fit() names the missing column
        self.fit(history, time=time, target=target, **columns)
        return self.evaluate(frame, origins=origins, baselines=baselines)

    def stream(self):
        """A :class:`~rnnkit.tasks.forecast.stream.ForecastStream` over one live series."""
        from rnnkit.tasks.forecast.stream import ForecastStream

        self.check_fitted()
        return ForecastStream(self)

    def _automatic_settings(self) -> dict:
        """What fit chose: season, frequency, lookback (the longest member's) and each
        member's, transform, the base's seasonal lag, optimizer steps, ensemble size and
        the guard's decisions (counts per use; the series where the network lost)."""
        return {"season": self.season_, "freq": self.freq_, "lookback": self.lookback_,
                "lookbacks": list(self.lookbacks_), "transform": self.transform_ or "none",
                "base_lag": self.base_lag_, "max_steps": self.steps_,
                "ensemble": len(self.lookbacks_), "guard": self.guard_.summary()}

    # ---- persistence ------------------------------------------------------------------------
    def _bundle_parts(self) -> BundleParts:
        return BundleParts(
            config={"columns": self.columns_, "dims": self.dims_},
            tensors=self.model_.state_dict(),
            preprocessing={"scalers": self.scalers_.to_dict(), "freq": self.freq_,
                           "season": self.season_, "train_end": self.train_end_,
                           "input_stats": self.input_stats_, "guard": self.guard_.to_dict(),
                           "auto": {"transform": self.transform_, "steps": self.steps_,
                                    "panel": self.panel_}})

    # settings of files written before the automatic settings, with their meaning then
    OLD_FILE_SETTINGS = {"normalize": "series", "ensemble": 1, "guard": "keep"}

    @classmethod
    def _settings_from_file(cls, settings: dict) -> dict:
        old = {k: v for k, v in cls.OLD_FILE_SETTINGS.items() if k not in settings}
        return {**old, **settings, "quantiles": tuple(settings["quantiles"])}

    def _check_file_parts(self, meta, specs) -> dict:
        stored.check_forecast_file(self.config, meta)
        return {}

    def _file_network(self, meta, specs) -> ForecastNet | ForecastEnsemble:
        self.likelihood_ = Likelihood(self.config.likelihood, self.config.quantiles, self.config.interval)
        dims = meta.config["dims"]
        lookbacks = dims.get("lookbacks") or [self.config.lookback]
        nets = [self._member(dims) for _ in lookbacks]
        return nets[0] if len(nets) == 1 else ForecastEnsemble(nets, lookbacks)

    def _restore(self, bundle) -> None:
        self.columns_ = bundle.config["columns"]
        self.dims_ = bundle.config["dims"]
        pre = bundle.preprocessing
        self.scalers_ = Scalers.from_dict(pre["scalers"])
        self.freq_, self.season_, self.train_end_ = pre["freq"], pre["season"], pre["train_end"]
        self.input_stats_ = pre.get("input_stats", {})  # absent in files from rnnkit < 0.2
        chosen = pre.get("auto", {"transform": self.config.transform, "steps": self.config.max_steps})
        self.transform_, self.steps_ = chosen["transform"], chosen["steps"]
        self.panel_ = bool(chosen.get("panel", False))
        self.lookbacks_ = list(self.dims_.get("lookbacks") or [self.config.lookback])
        self.lookback_, self.base_lag_ = max(self.lookbacks_), self.dims_.get("base_lag", 1)
        self.guard_ = Guard.from_dict(pre["guard"]) if "guard" in pre else Guard("keep", {}, Decision())
        self.model_ = self._file_network(bundle, None)
        self.model_.load_state_dict(bundle.tensors)
        self.model_.to(select_device(self.config.device)).eval()
