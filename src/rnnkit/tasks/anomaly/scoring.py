"""From per-point errors to scores, an online threshold and flags: the one definition
that batch detection and the stream share.

Input per point ``t``: the residuals ``r_t`` ``(C,)`` of the ``C`` channels, each divided
by that channel's training error scale (so channels are comparable), or nothing for a
point that is not scored (the predictor's burn-in, the autoencoder's unfinished window).
For the scored points, in order::

    e_t   = sqrt(mean_c r_{t,c}^2)                 # the point's error (RMS over channels)
    s_t   = α e_t + (1 - α) s_{t-1}                # score: EWMA, s = e at the first point
    q_t,c = α r_{t,c}^2 + (1 - α) q_{t-1,c}        # per-channel smoothed squared error
    share_t,c = q_t,c / Σ_c q_t,c                  # attribution: which channels drive s_t
    flag_t = s_t > τ                               # τ: the threshold in effect (below)

The threshold schedule (bounded work per step, documented in ``docs/anomaly.md``):
``τ`` starts as the threshold found on the training errors. Each score that is not
flagged then enters a buffer of the last ``buffer_size`` such scores (flagged scores stay
out, so the buffer describes normal behaviour and a second anomaly of the same size as
the first is still an anomaly); after every ``update_every``-th scored point, once the
buffer holds ``min_history`` scores, ``τ`` is recomputed over the buffer with
:func:`~rnnkit.tasks.anomaly.threshold.dynamic_threshold` (the search for ``ε``, then
``τ = max(ε, π) / (1 - p)``) and applies from the next point on. A point is always
judged by a threshold computed before it arrived. Work per point: O(C), plus one search
over at most ``buffer_size`` scores every ``update_every`` points.

:meth:`ScoreTracker.push` takes one point (the stream); :meth:`ScoreTracker.push_many`
takes a whole ``(T, C)`` array (batch) and runs the same scalar recursion, so both give
the same scores, thresholds and flags.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rnnkit.tasks.anomaly.threshold import Threshold, dynamic_threshold


@dataclass(frozen=True)
class StepResult:
    """What the detector says about one time step."""

    index: int  # 0-based position of the step in the stream
    score: float  # smoothed error s_t (NaN while unscored)
    threshold: float  # τ the score was compared with
    anomaly: bool  # score > threshold
    channels: tuple[str, ...] = ()  # channels that drive the anomaly (empty when not one)
    shares: dict = field(default_factory=dict)  # channel -> share of the smoothed squared error
    time: object = None  # the step's timestamp when the caller gave one

    def to_dict(self) -> dict:
        """A JSON-ready dict (what ``rnnkit watch`` prints)."""
        out = {"index": self.index}
        if self.time is not None:
            out["time"] = str(self.time)
        out.update(score=_num(self.score), threshold=_num(self.threshold), anomaly=self.anomaly,
                   channels=list(self.channels),
                   shares={k: round(float(v), 6) for k, v in self.shares.items()})
        return out


def _num(x: float):
    return None if x != x else float(x)  # NaN -> null in JSON


@dataclass
class ScoreArrays:
    """Batch output: ``score``, ``threshold``, ``anomaly`` ``(T,)`` and ``shares`` ``(T, C)``."""

    score: np.ndarray
    threshold: np.ndarray
    anomaly: np.ndarray
    shares: np.ndarray


def drivers(shares: np.ndarray, names, cover: float = 0.5) -> tuple[str, ...]:
    """The fewest channels, largest share first, whose shares add up to ``cover``."""
    order = np.argsort(-np.asarray(shares), kind="stable")
    total, out = 0.0, []
    for i in order:
        out.append(names[i])
        total += float(shares[i])
        if total >= cover:
            break
    return tuple(out)


class ScoreTracker:
    """Stateful scorer; see the module docstring for the math and the schedule."""

    def __init__(self, channels, *, alpha: float, initial: Threshold, z_values,
                 min_decrease: float, buffer_size: int, update_every: int, min_history: int) -> None:
        self.channels = tuple(channels)
        self.alpha, self.z_values, self.min_decrease = float(alpha), tuple(z_values), min_decrease
        self.update_every, self.min_history = update_every, min_history
        self.threshold = initial  # τ in effect
        self._buffer = np.zeros(buffer_size)  # ring of the last scores
        self._filled = 0  # scores in the ring
        self._pos = 0  # where the next score goes
        self._scored = 0  # scored points so far
        self._s = None  # s_{t-1}
        self._q = None  # q_{t-1}, (C,)
        self.index = 0  # next point's index

    # ---- the scalar recursion both paths run ----------------------------------------
    def _advance(self, e: float) -> tuple[float, float, bool]:
        """Smooth ``e``, judge it by τ, buffer it, maybe recompute τ: ``(s, τ, flag)``."""
        a = self.alpha
        s = e if self._s is None else a * e + (1.0 - a) * self._s
        self._s = s
        tau = self.threshold.value
        flag = s > tau
        if not flag:  # flagged scores stay out: the buffer describes normal behaviour
            self._buffer[self._pos] = s
            self._pos = (self._pos + 1) % len(self._buffer)
            self._filled = min(self._filled + 1, len(self._buffer))
        self._scored += 1
        if self._scored % self.update_every == 0 and self._filled >= self.min_history:
            self.threshold = dynamic_threshold(self.recent(), self.z_values, self.min_decrease)
        return s, tau, flag

    def recent(self) -> np.ndarray:
        """The buffered scores, oldest first."""
        if self._filled < len(self._buffer):
            return self._buffer[: self._filled].copy()
        return np.concatenate((self._buffer[self._pos:], self._buffer[: self._pos]))

    def _smooth_channels(self, r2: np.ndarray) -> np.ndarray:
        a = self.alpha
        self._q = r2 if self._q is None else a * r2 + (1.0 - a) * self._q
        total = float(self._q.sum())
        return self._q / total if total > 0 else np.full(len(r2), 1.0 / len(r2))

    # ---- one point (stream) ---------------------------------------------------------
    def push(self, r: np.ndarray | None, time=None) -> StepResult:
        """Score one point; ``r`` ``(C,)`` normalized residuals, or None when unscored."""
        index, self.index = self.index, self.index + 1
        if r is None:
            return StepResult(index, float("nan"), self.threshold.value, False, time=time)
        r2 = r * r  # (C,)
        e = float(np.sqrt(r2.mean()))
        shares = self._smooth_channels(r2)
        s, tau, flag = self._advance(e)
        channels = drivers(shares, self.channels) if flag else ()
        return StepResult(index, s, tau, bool(flag), channels,
                          dict(zip(self.channels, shares.tolist())), time)

    # ---- many points (batch) --------------------------------------------------------
    def push_many(self, r: np.ndarray) -> ScoreArrays:
        """Score ``r`` ``(T, C)`` (NaN rows: unscored) with the same recursion as :meth:`push`."""
        T, C = r.shape
        score, tau = np.full(T, np.nan), np.full(T, np.nan)
        flag, shares = np.zeros(T, dtype=bool), np.full((T, C), np.nan)
        r2 = r * r  # (T, C)
        e = np.sqrt(r2.mean(axis=1))  # (T,)
        for t in range(T):
            if np.isnan(e[t]):
                tau[t] = self.threshold.value
                continue
            shares[t] = self._smooth_channels(r2[t])
            score[t], tau[t], flag[t] = self._advance(float(e[t]))
        self.index += T
        return ScoreArrays(score, tau, flag, shares)
