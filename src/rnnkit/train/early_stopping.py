"""Track the best value of the monitored metric, its weights, and when to stop."""

from __future__ import annotations

import math
from typing import Any

import torch


class EarlyStopping:
    """Keras-style early stopping on one metric, keeping a copy of the best weights.

    ``patience=None`` only tracks the best epoch and value (no stopping, no weight copy).
    A NaN value never counts as an improvement.
    """

    def __init__(self, mode: str = "min", patience: int | None = None) -> None:
        self.mode = mode
        self.patience = patience
        self.best_value: float | None = None
        self.best_epoch: int | None = None
        self.bad_epochs = 0
        self.best_weights: dict[str, torch.Tensor] | None = None

    def is_better(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.best_value is None:
            return True
        return value < self.best_value if self.mode == "min" else value > self.best_value

    def update(self, value: float, epoch: int, model: torch.nn.Module) -> bool:
        """Record epoch ``epoch``'s value; True when it is the best so far."""
        if not self.is_better(value):
            self.bad_epochs += 1
            return False
        self.best_value, self.best_epoch, self.bad_epochs = float(value), epoch, 0
        if self.patience is not None:
            self.best_weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
        return True

    @property
    def should_stop(self) -> bool:
        return self.patience is not None and self.bad_epochs > self.patience

    def restore_best(self, model: torch.nn.Module) -> bool:
        """Load the best weights into ``model``; False when there are none to load."""
        if self.best_weights is None:
            return False
        model.load_state_dict(self.best_weights)
        return True

    def state_dict(self) -> dict[str, Any]:
        return {"best_value": self.best_value, "best_epoch": self.best_epoch,
                "bad_epochs": self.bad_epochs, "best_weights": self.best_weights}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best_value = state["best_value"]
        self.best_epoch = state["best_epoch"]
        self.bad_epochs = state["bad_epochs"]
        self.best_weights = state["best_weights"]
