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

from rnnkit.tasks.anomaly.residuals import unscored_prefix
from rnnkit.tasks.anomaly.scoring import ScoreTracker, StepResult
from rnnkit.tasks.anomaly.values import step_values


class AnomalyStream:
    """State of one stream; make one with ``AnomalyDetector.stream()``."""

    def __init__(self, net, tracker: ScoreTracker, channels, mean: np.ndarray, std: np.ndarray,
                 error_scale: np.ndarray) -> None:
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
    """Next-step prediction error, one result per step."""

    def __init__(self, *args, burn_in: int) -> None:
        super().__init__(*args)
        self._first = unscored_prefix(burn_in)
        self._pred = None  # x̂ of the coming step, (C,)

    @torch.inference_mode()
    def step(self, values, time=None) -> StepResult:
        """Feed one step; returns its score, threshold, flag and driving channels."""
        x = self._scaled(values)  # (C,)
        r = (x - self._pred) / self._scale if self.steps >= self._first else None
        pred, self._state = self._net.step(torch.from_numpy(x)[None], self._state)  # (1, C)
        self._pred = pred[0].numpy()
        self.steps += 1
        return self.tracker.push(r, time)


class AutoencoderStream(AnomalyStream):
    """Window reconstruction error; results lag ``window - 1`` steps (see the module doc)."""

    def __init__(self, *args, window: int) -> None:
        super().__init__(*args)
        self.window = window
        self._inputs: list[np.ndarray] = []  # scaled steps of the open window
        self._times: list = []
        self._ready: deque[StepResult] = deque()  # scored, not yet returned (at most W)

    @torch.inference_mode()
    def step(self, values, time=None) -> StepResult | None:
        """Feed one step; returns the result of step ``steps - window`` once it is scored."""
        x = self._scaled(values)
        code, self._state = self._net.encode_step(torch.from_numpy(x)[None], self._state)  # (1, P)
        self._inputs.append(x)
        self._times.append(time)
        self.steps += 1
        if len(self._inputs) == self.window:
            self._close(code)
        return self._ready.popleft() if self._ready else None

    def _close(self, code: torch.Tensor) -> None:
        recon = self._net.decode(code, self.window)[0].numpy()  # (W, C)
        r = (np.stack(self._inputs) - recon) / self._scale  # (W, C)
        for row, time in zip(r, self._times):
            self._ready.append(self.tracker.push(row, time))
        self._inputs, self._times, self._state = [], [], None
