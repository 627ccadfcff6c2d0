"""``detector.stream()``: score a series one time step at a time, as it arrives.

Constant work per step: the recurrent state is carried with ``layer.step`` (no window is
recomputed) and the threshold is refreshed on the schedule of
:mod:`rnnkit.tasks.anomaly.scoring` over a bounded buffer. Feeding a series step by step
gives the scores, thresholds and flags of ``detector.detect`` on the same series.

>>> stream = detector.stream()
>>> for row in rows:                       # a dict by channel, a list, or a number
...     result = stream.step(row)
...     if result is not None and result.anomaly:
...         print(result.index, result.score, result.threshold, result.channels)

* ``method="predict"``: each step returns the :class:`StepResult` of that step.
* ``method="autoencoder"``: a window is scored when its last step arrives, so results
  lag ``window - 1`` steps: ``step`` returns None for the first ``window - 1`` steps and
  then one result per step, for step ``index = t - (window - 1)``.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import torch

from rnnkit.nn.stepping import stack_states, unstack_states
from rnnkit.tasks.anomaly.residuals import normalize, unscored_prefix
from rnnkit.tasks.anomaly.scoring import ScoreTracker, StepResult
from rnnkit.tasks.anomaly.values import step_values


class AnomalyStream:
    """State of one stream; make one with ``AnomalyDetector.stream()``."""

    def __init__(self, net, tracker: ScoreTracker, channels, mean: np.ndarray, std: np.ndarray,
                 error_scale: np.ndarray) -> None:  # error_scale: (K, C)
        self.channels = tuple(channels)
        self.tracker = tracker
        self._net, self._mean, self._std, self._scale = net, mean, std, error_scale
        self._state = None
        self.steps = 0  # steps fed so far

    @property
    def threshold(self) -> float:
        """The threshold the next score will be compared with."""
        return self.tracker.threshold.value

    def _scaled(self, values) -> np.ndarray:
        return (step_values(values, self.channels) - self._mean) / self._std  # (C,)

    def step(self, values, time=None) -> StepResult | None:  # pragma: no cover - abstract
        raise NotImplementedError


class PredictorStream(AnomalyStream):
    """Prediction error, one result per step."""

    def __init__(self, *args, burn_in: int) -> None:
        super().__init__(*args)
        self._first = unscored_prefix(burn_in, self._net.horizons)
        self._made = deque(maxlen=self._net.horizons)  # predictions of the last K steps, (K, C) each
        self._prev = None  # the last step's scaled values, (C,)

    @torch.inference_mode()
    def step(self, values, time=None) -> StepResult:
        """Feed one step; returns its score, threshold, flag and driving channels."""
        return step_many([self], [values], [time])[0]

    def _before(self, values) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Scaled step ``x`` (C,), the previous step (C,) and this step's residuals (K, C)."""
        x = self._scaled(values)  # (C,)
        r = None
        if self.steps >= self._first:  # x̂ of this step made k + 1 steps ago is _made[-1 - k][k]
            raw = np.stack([x - self._made[-1 - k][k] for k in range(len(self._made))])  # (K, C)
            r = normalize(raw, self._scale)
        prev = x if self._prev is None else self._prev  # a series starts with no change
        return x, prev, r

    def _after(self, x: np.ndarray, pred: np.ndarray, state, r, time) -> StepResult:
        self._made.append(pred)  # (K, C)
        self._prev, self._state = x, state
        self.steps += 1
        return self.tracker.push(r, time)


class AutoencoderStream(AnomalyStream):
    """Window reconstruction error; results lag ``window - 1`` steps (see the module doc)."""

    def __init__(self, *args, window: int) -> None:
        super().__init__(*args)
        self.window = window
        self._inputs: list[np.ndarray] = []  # scaled steps of the open window
        self._anchor = None  # (C,): the last value before the open window
        self._times: list = []
        self._ready: deque[StepResult] = deque()  # scored, not yet returned (at most W)

    @torch.inference_mode()
    def step(self, values, time=None) -> StepResult | None:
        """Feed one step; returns the result of step ``steps - window`` once it is scored."""
        x = self._scaled(values)
        if self._anchor is None:
            self._anchor = x  # the first window of a stream is anchored at its first value
        d = torch.from_numpy(x - self._anchor)[None]  # (1, C)
        code, self._state = self._net.encode_step(d, self._state)  # (1, P)
        self._inputs.append(x)
        self._times.append(time)
        self.steps += 1
        if len(self._inputs) == self.window:
            self._close(code)
        return self._ready.popleft() if self._ready else None

    def _close(self, code: torch.Tensor) -> None:
        recon = self._anchor + self._net.decode(code, self.window)[0].numpy()  # (W, C)
        r = normalize((np.stack(self._inputs) - recon)[:, None], self._scale)  # (W, C)
        for row, time in zip(r, self._times):
            self._ready.append(self.tracker.push(row, time))
        self._anchor = self._inputs[-1]
        self._inputs, self._times, self._state = [], [], None


@torch.inference_mode()
def step_many(streams: list[PredictorStream], rows: list, times: list | None = None) -> list[StepResult]:
    """One step of each of many streams of the same detector, in one network pass.

    ``rows[i]`` is stream ``i``'s next step (as :meth:`AnomalyStream.step` takes it). The
    results equal calling ``streams[i].step(rows[i])`` one stream at a time; a server
    batches the steps of many client sessions this way.
    """
    if not streams:
        return []
    times = times if times is not None else [None] * len(streams)
    net = streams[0]._net
    if any(s._net is not net for s in streams):
        raise ValueError("step_many: streams of different detectors cannot share a pass")
    prepared = [s._before(v) for s, v in zip(streams, rows)]
    x = torch.from_numpy(np.stack([p[0] for p in prepared]))  # (N, C)
    prev = torch.from_numpy(np.stack([p[1] for p in prepared]))  # (N, C)
    pred, state = net.step(x, prev, stack_states([s._state for s in streams], net.rnn))  # (N, K, C)
    pred = pred.numpy()
    return [s._after(p[0], pred[i], st, p[2], t)
            for i, (s, p, st, t) in enumerate(zip(streams, prepared, unstack_states(state, len(streams)), times))]
