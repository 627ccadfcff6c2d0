"""The guard: the network scored against the baselines on the last in-sample windows, and
what the forecaster does where it loses.

After training, every series' validation windows (at most :data:`WINDOWS`, the last ones,
``max(1, H // 2)`` steps apart) are forecast by the network and by each baseline from the
history before the window. Per series, with ``MASE`` the windows' mean absolute error over
the in-sample seasonal-naive scale:

* ``b*`` = the baseline with the lowest MASE; ``combined`` = the mean of the network's and
  ``b*``'s forecasts (point and bounds);
* ``keep``: the network always (the fit report still says where it lost);
* ``fallback``: the network where it is no worse than ``b*``, else ``b*``;
* ``combine``: the network where it is no worse than ``b*``, else ``combined``;
* ``auto`` (the default): whichever of network, ``combined`` and ``b*`` scored lowest
  (ties go to the network), so the default never forecasts worse than the best baseline
  did on validation.

A series too short to spare a validation window is decided by :func:`unvalidated`: the
baselines are scored on its own last steps, and ``auto`` uses the mean of the network and
the best of them, its interval widened to hold the baseline's.

The baselines read the last ``rows = max(L, 10 m, 200)`` steps of the history (what ETS
fits on anyway), at fit and at predict, so a stream or a server session that keeps that
many rows forecasts exactly what ``predict`` gives on the whole series. A series the model
has not seen (a new id at predict) gets the choice that won on the most training series.
The decisions are plain JSON in the model file.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from rnnkit.tasks.forecast import backtest as bt
from rnnkit.tasks.forecast.baselines import BASELINES as BASELINE_FUNCTIONS, available, mase_scale
from rnnkit.tasks.forecast.metrics import point_metrics

MODES = ("auto", "keep", "combine", "fallback")
BASELINES = ("naive", "seasonal_naive", "drift", "ets")
WINDOWS = 4  # validation windows per series the guard scores
ETS_SERIES = 200  # more series than this: the guard leaves ETS out (a fit per window and series)
USES = ("network", "combined", "baseline")


def history_rows(lookback: int, season: int) -> int:
    """Rows of history the guard's baselines read: ``max(L, 10 m, 200)``."""
    return max(lookback, 10 * season, 200)


@dataclass
class Decision:
    """One series' choice: ``use`` is ``"network"``, ``"combined"`` or ``"baseline"``;
    ``baseline`` the best baseline's name; ``scores`` the validation MASE of each;
    ``widen``: the series had no validation window, so the network's interval is widened
    to hold ``baseline``'s too."""

    use: str = "network"
    baseline: str = "seasonal_naive"
    scores: dict[str, float] = field(default_factory=dict)
    widen: bool = False

    def to_dict(self) -> dict:
        return {"use": self.use, "baseline": self.baseline, "widen": self.widen,
                "scores": {k: (None if math.isnan(v) else round(v, 6)) for k, v in self.scores.items()}}

    @classmethod
    def from_dict(cls, d: dict) -> "Decision":
        scores = {k: (math.nan if v is None else float(v)) for k, v in d.get("scores", {}).items()}
        return cls(d["use"], d["baseline"], scores, bool(d.get("widen", False)))


def unvalidated(values: np.ndarray, horizon: int, season: int, level: float, mode: str,
                names: list[str]) -> Decision:
    """The decision for a series too short to spare validation windows.

    The network cannot be scored, but the baselines can, on the series' own last steps (up
    to :data:`WINDOWS` origins, ``max(1, H // 2)`` apart, each scored on the steps it has,
    at most ``H``). ``auto`` and ``combine`` use the mean of the network and the best of
    them (a hedge: nothing says which is better); ``fallback`` keeps the network (nothing
    says it lost); ``keep`` keeps it untouched. Except for ``keep`` the interval is widened
    to hold the baseline's: a network fitted on a few dozen points has no out-of-sample
    measure of its own spread, and its learned quantiles are then too narrow."""
    T = len(values)
    stride, scores = max(1, horizon // 2), {}
    origins = [o for o in range(T - 1, max(2, min(season, T // 2)), -stride)][:WINDOWS]
    for name in names:
        errors = []
        for o in origins:
            k = min(horizon, T - o)
            for c in range(values.shape[1]):
                point = BASELINE_FUNCTIONS[name](values[:o, c], horizon, season, level)[0][:k]
                scale = mase_scale(values[:o, c], season)
                errors.append(np.abs(values[o: o + k, c] - point).mean() / scale)
        scores[name] = float(np.mean(errors)) if errors and np.isfinite(errors).all() else math.nan
    finite = [n for n in names if math.isfinite(scores.get(n, math.nan))]
    default = "seasonal_naive" if season > 1 and T >= 2 * season else "naive"
    best = min(finite, key=lambda n: scores[n]) if finite else default
    use = "combined" if mode in ("auto", "combine") else "network"
    return Decision(use, best, {}, widen=mode != "keep")


def validation_pairs(lengths: list[int], splits: list[int], lookback: int, horizon: int
                     ) -> list[tuple[int, int]]:
    """Up to :data:`WINDOWS` (series, origin) pairs per series in its validation part."""
    stride, pairs = max(1, horizon // 2), []
    for i, (T, s) in enumerate(zip(lengths, splits)):
        last = T - horizon
        origins = [o for o in range(last, max(s, lookback) - 1, -stride)][:WINDOWS]
        pairs += [(i, o) for o in sorted(origins)]
    return pairs


def _mase(actual: np.ndarray, point: np.ndarray, scales: np.ndarray) -> float:
    """Mean over windows and targets of MAE / scale; ``actual``/``point`` ``(W, H, C)``."""
    flat = lambda a: a.transpose(0, 2, 1).reshape(-1, a.shape[1])  # noqa: E731
    return point_metrics(flat(actual), flat(point), scales.reshape(-1))["MASE"]


def combine(a: bt.Forecasts, b: bt.Forecasts) -> bt.Forecasts:
    """The mean of two forecasts, bounds included (None where either has none)."""
    mean = lambda x, y: None if x is None or y is None else (x + y) / 2  # noqa: E731
    return bt.Forecasts((a.point + b.point) / 2, mean(a.lower, b.lower), mean(a.upper, b.upper))


def decide(mode: str, scores: dict[str, float], baselines: list[str]) -> Decision:
    """One series' :class:`Decision` from its validation MASE per model (see the module)."""
    finite = [b for b in baselines if math.isfinite(scores.get(b, math.nan))]
    if not finite or not math.isfinite(scores.get("network", math.nan)):
        return Decision("network", baselines[0] if baselines else "naive", scores)
    best = min(finite, key=lambda b: scores[b])
    net, comb, base = scores["network"], scores.get("combined", math.nan), scores[best]
    if mode == "keep":
        use = "network"
    elif mode == "auto":  # the lowest of the three, ties to the network
        ranked = sorted([(net, 0, "network"), (comb, 1, "combined"), (base, 2, "baseline")],
                        key=lambda t: (t[0] if math.isfinite(t[0]) else math.inf, t[1]))
        use = ranked[0][2]
    elif net <= base:
        use = "network"
    else:
        use = "baseline" if mode == "fallback" else "combined"
    return Decision(use, best, scores)


@dataclass
class Guard:
    """The per-series decisions (by series key as a string) and the default for new ones."""

    mode: str
    decisions: dict[str, Decision]
    default: Decision

    @classmethod
    def fit(cls, mode: str, series, pairs, network: bt.Forecasts, horizon: int, season: int,
            level: float, rows: int) -> "Guard":
        """Score ``network``'s forecasts of the validation ``pairs`` against the baselines
        (reading the last ``rows`` steps of history) and decide per series."""
        names = [b for b in BASELINES if b != "ets" or len(series.values) <= ETS_SERIES]
        names = available(names) if "ets" in names else names
        scored = {i for i, _ in pairs}
        decisions = {str(key): unvalidated(v, horizon, season, level, mode, names)
                     for i, (key, v) in enumerate(zip(series.ids, series.values)) if i not in scored}
        if not pairs:
            return cls(mode, decisions, Decision())
        forecasts = {b: bt.baseline_forecasts(b, series, pairs, horizon, season, level, rows) for b in names}
        actual = np.stack([series.values[i][o: o + horizon] for i, o in pairs])  # (W, H, C)
        scales = np.array([[mase_scale(series.values[i][:o, c], season) for c in range(actual.shape[2])]
                           for i, o in pairs])  # (W, C)
        index = np.array([i for i, _ in pairs])
        for i, key in enumerate(series.ids):
            rows = np.flatnonzero(index == i)
            if not len(rows):
                continue
            part = lambda f: f.point[rows]  # noqa: E731
            scores = {"network": _mase(actual[rows], part(network), scales[rows])}
            scores.update({b: _mase(actual[rows], part(forecasts[b]), scales[rows]) for b in names})
            finite = [b for b in names if math.isfinite(scores[b])]
            if finite:
                best = min(finite, key=lambda b: scores[b])
                scores["combined"] = _mase(actual[rows], (part(network) + part(forecasts[best])) / 2,
                                           scales[rows])
            decisions[str(key)] = decide(mode, scores, names)
        scored = [d for d in decisions.values() if d.scores]
        uses = [d.use for d in scored]
        common = max(USES, key=uses.count) if uses else "network"
        bases = [d.baseline for d in scored if d.use == common]
        default = Decision(common, max(set(bases), key=bases.count) if bases else "seasonal_naive")
        return cls(mode, decisions, default)

    def decision(self, key) -> Decision:
        return self.decisions.get(str(key), self.default)

    def apply(self, series, pairs, network: bt.Forecasts, horizon: int, season: int,
              level: float, rows: int) -> bt.Forecasts:
        """The forecasts of ``pairs`` after each series' decision (data units, ``(W, H, C)``);
        baselines read the last ``rows`` steps before each origin."""
        out = bt.Forecasts(network.point.copy(), None if network.lower is None else network.lower.copy(),
                           None if network.upper is None else network.upper.copy())
        for w, (i, o) in enumerate(pairs):
            d = self.decision(series.ids[i])
            if d.use == "network" and not (d.widen and out.lower is not None):
                continue
            base = bt.baseline_forecasts(d.baseline, series, [(i, o)], horizon, season, level, rows)
            if d.use != "network":
                one = bt.Forecasts(*(None if a is None else a[w: w + 1] for a in
                                     (network.point, network.lower, network.upper)))
                pick = base if d.use == "baseline" else combine(one, base)
                out.point[w] = pick.point[0]
                if out.lower is not None:
                    out.lower[w], out.upper[w] = pick.lower[0], pick.upper[0]
            if d.widen and out.lower is not None:  # unvalidated: the interval holds the baseline's
                out.lower[w] = np.minimum(out.lower[w], base.lower[0])
                out.upper[w] = np.maximum(out.upper[w], base.upper[0])
        return out

    def summary(self) -> dict:
        """Counts per use and the series where the network lost to its best baseline."""
        lost = [k for k, d in self.decisions.items()
                if d.scores.get("network", math.nan) > d.scores.get(d.baseline, math.inf)]
        uses = [d.use for d in self.decisions.values()]
        return {"mode": self.mode, "uses": {u: uses.count(u) for u in USES if u in uses},
                "network_lost_on": lost,
                "unvalidated": [k for k, d in self.decisions.items() if not d.scores]}

    def to_dict(self) -> dict:
        return {"mode": self.mode, "default": self.default.to_dict(),
                "decisions": {k: d.to_dict() for k, d in self.decisions.items()}}

    @classmethod
    def from_dict(cls, d: dict) -> "Guard":
        return cls(d["mode"], {k: Decision.from_dict(v) for k, v in d["decisions"].items()},
                   Decision.from_dict(d["default"]))
