"""What to feed an exported forecaster graph, and how to read its answer in data units.

The ONNX graph of a :class:`~rnnkit.Forecaster` takes the network's own inputs: scaled
targets and covariates plus calendar features (:mod:`rnnkit.data.calendar`), and answers
in scaled units. These two functions do what :meth:`Forecaster.predict` does around the
network, so onnxruntime gives the numbers ``predict`` gives:

>>> import onnxruntime as ort                                               # doctest: +SKIP
>>> feeds = forecast_inputs(f, df)          # {"past", "future", "static"}: float32 arrays
>>> (out,) = ort.InferenceSession("weather.onnx").run(["forecast"], feeds)
>>> forecast_frame(f, df, out)              # the DataFrame f.predict(df) returns

Shapes (one row per series of ``data``, in :meth:`Forecaster.predict`'s order): ``past``
``(N, lookback, F_in)``, ``future`` ``(N, horizon, F_cal)``, ``static`` ``(N, S)``; the
graph's ``forecast`` is ``(N, horizon, C, K)``.
"""

from __future__ import annotations

import numpy as np
import torch

from rnnkit.errors import ConfigError, DataError, problem
from rnnkit.tasks.forecast.backtest import Forecasts

INPUTS = ("past", "future", "static")


def forecast_inputs(model, data) -> dict[str, np.ndarray]:
    """The named float32 arrays the forecaster's sequence graph takes to forecast the
    ``horizon`` steps after the last row of each series in ``data`` (a DataFrame, a
    CSV/Parquet path, or a :meth:`Forecaster.read` SeriesSet): ``{"past", "future",
    "static"}``, scaled and with calendar features exactly as :meth:`Forecaster.predict`
    builds them. For the step graph, feed ``past[:, t]`` as ``past_t`` for
    ``t = 0 .. lookback-1`` from a zero state, with the same ``future`` and ``static``."""
    series, feats, pairs = _windows(model, data)
    w = feats.windows(pairs, model.lookback_)
    return {name: np.ascontiguousarray(w[name].numpy(), dtype=np.float32) for name in INPUTS}


def forecast_frame(model, data, forecast: np.ndarray):
    """The graph's ``forecast`` output ``(N, horizon, C, K)`` for :func:`forecast_inputs`
    of the same ``data``, as the DataFrame :meth:`Forecaster.predict` returns: point
    forecast and interval bounds per target, in data units (the series' scaling undone,
    ``exp`` applied for ``transform="log"``)."""
    series, feats, pairs = _windows(model, data)
    out = torch.as_tensor(np.asarray(forecast, dtype=np.float32))
    H, C, K = model.config.horizon, len(model.columns_["targets"]), model.likelihood_.n_outputs
    if tuple(out.shape) != (len(pairs), H, C, K):
        raise DataError(problem("forecast_frame: forecast shape", expected=f"{(len(pairs), H, C, K)} "
                                "(series, horizon, targets, outputs)", got=tuple(out.shape),
                                fix="pass the graph's 'forecast' output for forecast_inputs of "
                                "the same data"))
    index = np.array([i for i, _ in pairs])
    log = model.config.transform == "log"

    def data_units(value):
        if value is None:
            return None
        unscaled = feats.unscale(value.numpy(), index)
        return np.exp(unscaled) if log else unscaled

    point, lower, upper = (data_units(v) for v in model.likelihood_.summarize(out))
    return model.forecast_table(series, pairs, Forecasts(point, lower, upper))


def _windows(model, data):
    """``(series, features, pairs)``: every series of ``data`` read as ``model`` reads it,
    its scaled features, and its last window ``(series index, origin)``."""
    if getattr(model, "task_name", None) != "forecast":
        raise ConfigError(problem("forecast_inputs: model", expected="a fitted rnnkit.Forecaster",
                                  got=type(model).__name__))
    series = model.read(data)
    feats = model.network_inputs(series, 0).features  # checks each series holds a lookback
    return series, feats, [(i, len(v)) for i, v in enumerate(series.values)]
