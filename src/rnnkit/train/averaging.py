"""An exponential moving average of the weights (Polyak averaging), kept beside training.

After every optimizer step ``k`` (``k = 1, 2, ...``) each parameter's average moves toward
the new weights::

    d_k   = min(decay, (1 + k) / (10 + k))        # warm-up, as TensorFlow's ExponentialMovingAverage
    avg_k = d_k * avg_{k-1} + (1 - d_k) * w_k     # avg_0 = w_0, the starting weights

The warm-up lets the average forget the random start quickly: ``d_1 = 0.18``,
``d_10 = 0.58``, ``d_90 = 0.91``. Only parameters are averaged; buffers (a lexicon, running
statistics) stay the model's own. The Trainer evaluates, keeps as best, checkpoints and
returns the averaged weights; training itself steps the raw ones (Keras's
``use_ema=True``, Marian's ``--exponential-smoothing``).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

import torch


class WeightAverage:
    """The moving average of ``model``'s parameters (see the module doc for the rule)."""

    def __init__(self, model: torch.nn.Module, decay: float) -> None:
        self.decay = decay
        self.updates = 0
        self.average = [p.detach().clone() for p in model.parameters()]

    def decay_at(self, k: int) -> float:
        """``d_k``, the weight of the old average at update ``k``."""
        return min(self.decay, (1 + k) / (10 + k))

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        """Fold in the weights after one more optimizer step."""
        self.updates += 1
        weight = 1.0 - self.decay_at(self.updates)
        for avg, p in zip(self.average, model.parameters()):
            avg.lerp_(p.detach(), weight)  # avg + weight * (p - avg)

    @contextmanager
    def swapped_in(self, model: torch.nn.Module) -> Iterator[None]:
        """``model`` holds the averaged weights inside the block, its own ones after it."""
        params = list(model.parameters())
        saved = [p.detach().clone() for p in params]
        self.copy_to(model)
        try:
            yield
        finally:
            with torch.no_grad():
                for p, w in zip(params, saved):
                    p.copy_(w)

    @torch.no_grad()
    def copy_to(self, model: torch.nn.Module) -> None:
        """Write the averaged weights into ``model`` for good."""
        for p, avg in zip(model.parameters(), self.average):
            p.copy_(avg)

    def state_dict(self) -> dict[str, Any]:
        return {"decay": self.decay, "updates": self.updates, "average": self.average}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.updates = state["updates"]
        with torch.no_grad():
            for avg, saved in zip(self.average, state["average"]):
                avg.copy_(saved)
