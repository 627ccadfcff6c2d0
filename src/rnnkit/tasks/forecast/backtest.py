"""Rolling-origin backtest: forecasts from several cut-offs, scored against baselines.

Origins are the last ``n`` non-overlapping forecast windows of each series: origin
``o_k = T - k H`` for ``k = n..1`` (the window ``[o_k, o_k + H)`` is scored), as long as
``o_k`` leaves ``lookback`` steps of history. The network forecasts every (series, origin)
window in one batched pass; each baseline sees exactly the history before the origin.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from rnnkit.tasks.core import Report
from rnnkit.tasks.forecast import baselines as B
from rnnkit.tasks.forecast.features import SeriesFeatures
from rnnkit.tasks.forecast.metrics import interval_metrics, point_metrics


@dataclass
class Forecasts:
    """Forecasts of one model over backtest windows: arrays ``(W, H, C)``."""

    point: np.ndarray
    lower: np.ndarray | None
    upper: np.ndarray | None


@dataclass(repr=False)  # Report's repr: the table, not every array
class BacktestResult(Report):
    """A :class:`~rnnkit.tasks.core.Report` whose ``table`` has one row per model
    (``rnnkit`` first) and the metric columns; ``pairs``: the scored (series, origin)
    windows; ``actual`` ``(W, H, C)``; ``forecasts``: per model; ``series``: the SeriesSet
    scored. ``plot(metric)`` draws the table; :meth:`plot_forecasts` the windows."""

    pairs: list[tuple[int, int]]
    actual: np.ndarray  # (W, H, C)
    forecasts: dict[str, Forecasts] = field(default_factory=dict)
    series: object = None  # the SeriesSet scored

    def fields_note(self) -> str:
        return f".pairs, .actual, .forecasts, .series; windows={len(self.pairs)}"

    def plot_forecasts(self, path, **options):
        """Draw one series' backtest windows to ``path`` (a PNG); ``options`` as
        :func:`rnnkit.tasks.forecast.plots.plot_backtest`. Returns the path written."""
        from rnnkit.tasks.forecast.plots import plot_backtest

        return plot_backtest(self, path, **options)


def origins(lengths: list[int], lookback: int, horizon: int, n: int,
            first: list[int] | None = None) -> list[tuple[int, int]]:
    """(series, origin) pairs of the last ``n`` windows; origins before ``first[i]`` dropped."""
    pairs = []
    for i, T in enumerate(lengths):
        lowest = max(lookback, 2, first[i] if first else 0)
        pairs += [(i, T - k * horizon) for k in range(n, 0, -1) if T - k * horizon >= lowest]
    return pairs


@torch.no_grad()
def network_forecasts(model, likelihood, feats: SeriesFeatures, pairs, lookback: int,
                      device, chunk: int = 4096) -> Forecasts:
    """All windows through the network in batches of ``chunk``; unscaled to data units."""
    model.eval()
    parts = {"point": [], "lower": [], "upper": []}
    for start in range(0, len(pairs), chunk):
        w = feats.windows(pairs[start: start + chunk], lookback)
        out = model(w["past"].to(device), w["future"].to(device), w["static"].to(device))
        for name, value in zip(parts, likelihood.summarize(out)):
            parts[name].append(None if value is None else value.cpu().numpy())
    index = np.array([i for i, _ in pairs])
    unscale = lambda xs: None if xs[0] is None else feats.unscale(np.concatenate(xs), index)  # noqa: E731
    return Forecasts(unscale(parts["point"]), unscale(parts["lower"]), unscale(parts["upper"]))


def baseline_forecasts(name: str, series, pairs, horizon: int, season: int, level: float,
                       rows: int | None = None) -> Forecasts:
    """Baseline ``name``'s forecasts of (series, origin) ``pairs``, each from the history before
    its origin (its last ``rows`` steps when given), as ``(W, H, C)`` arrays."""
    fn = B.BASELINES[name]
    C = len(series.targets)
    out = np.empty((3, len(pairs), horizon, C))
    for w, (i, o) in enumerate(pairs):
        start = 0 if rows is None else max(0, o - rows)
        for c in range(C):
            out[:, w, :, c] = fn(series.values[i][start:o, c], horizon, season, level)
    return Forecasts(out[0], out[1], out[2])


def score(series, pairs, horizon: int, season: int, forecasts: dict[str, Forecasts]
          ) -> tuple[pd.DataFrame, np.ndarray]:
    """Metric table (one row per model) and the actual values ``(W, H, C)``."""
    actual = np.stack([series.values[i][o: o + horizon] for i, o in pairs])  # (W, H, C)
    C = actual.shape[2]
    scale = np.array([[B.mase_scale(series.values[i][:o, c], season) for c in range(C)]
                      for i, o in pairs])  # (W, C)
    flat = lambda a: a.transpose(0, 2, 1).reshape(-1, horizon)  # (W*C, H)  # noqa: E731
    rows = {}
    for name, f in forecasts.items():
        row = point_metrics(flat(actual), flat(f.point), scale.reshape(-1))
        row.update(interval_metrics(flat(actual), None if f.lower is None else flat(f.lower),
                                    None if f.upper is None else flat(f.upper)))
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model"), actual
