"""``History``: what ``Trainer.fit`` returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class History:
    """One row per epoch: epoch (1-based), train_loss, the evaluation metrics, lr (held by
    the optimizer when the epoch's training ends, before a plateau cut), seconds, steps
    (optimizer steps so far) and skipped (steps skipped this epoch for a NaN/inf).

    ``history["val_loss"]`` gives that column over the epochs, as in Keras.
    """

    rows: list[dict[str, float]] = field(default_factory=list)  # one dict per epoch
    best_epoch: int | None = None  # 1-based epoch with the best monitored value
    best_value: float | None = None  # that value
    stopped_early: bool = False  # early stopping ended the run
    steps: int = 0  # optimizer steps taken

    def __getitem__(self, key: str) -> list[float]:
        return [row[key] for row in self.rows if key in row]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "History":
        return cls(rows=[dict(r) for r in values["rows"]], best_epoch=values["best_epoch"],
                   best_value=values["best_value"], stopped_early=values["stopped_early"],
                   steps=values["steps"])
