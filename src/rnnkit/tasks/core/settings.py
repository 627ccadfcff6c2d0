"""Settings dataclasses: strict reading from dicts, declared checks, and the training block.

Every task's config is a dataclass that subclasses :class:`TrainSettings` (the block of
training settings all tasks share) and adds its own fields, each with a default, a
comment and, where a value can be wrong, a declared check::

    @dataclass
    class ForecastConfig(TrainSettings):
        WHO: ClassVar[str] = "Forecaster"
        epochs: int = 40                                   # a new default; the check stays
        hidden_size: int = setting(64, Int(1))             # encoder width

:meth:`Settings.validate` runs the checks of every field (a field redeclared without one
keeps its parent's), then :meth:`Settings.check_combinations`, the one hook a task
writes by hand for rules that tie several fields together.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

import torch

from rnnkit.errors import ConfigError, problem, unknown_name
from rnnkit.tasks.core.checks import Check, Choice, Int, Real, Rule, setting
from rnnkit.tasks.core.limits import MAX_COUNT, bounded
from rnnkit.train import TrainConfig

PROGRESS = ("auto", "bar", "plain", "none")
DEVICE_TYPES = ("cpu", "cuda", "mps", "xpu")  # devices that hold real numbers ("meta" does not)


def is_device(value: Any) -> bool:
    """``"auto"`` or a torch device string of a type that computes (cpu, cuda, mps, xpu)."""
    if value == "auto":
        return True
    try:
        return isinstance(value, str) and torch.device(value).type in DEVICE_TYPES
    except (RuntimeError, ValueError):
        return False


class Settings:
    """Mixin of a settings dataclass: strict ``from_dict``, plain ``to_dict``, ``validate``."""

    WHO: ClassVar[str] = "settings"  # the estimator's name, first word of every message
    SETTING: ClassVar[str | None] = None  # what an unknown key is called; None: "<WHO> setting"

    @classmethod
    def from_dict(cls, values: dict):
        """``cls(**values)``, refusing an unknown key with the nearest valid name."""
        names = {f.name for f in fields(cls)}
        for key in values:
            if key not in names:
                raise ConfigError(unknown_name(cls.SETTING or f"{cls.WHO} setting", key, names))
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain JSON values (tuples become lists) for a model file."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def validate(self) -> None:
        """Run every field's declared check, then :meth:`check_combinations`.

        Raises:
            ConfigError: the first setting that breaks its rule, with what was expected.
        """
        for f in fields(self):
            check = declared_check(type(self), f.name)
            if check is not None:
                check(self.WHO, f.name, getattr(self, f.name))
        self.check_combinations()

    def check_combinations(self) -> None:
        """Rules that tie several settings together; a task overrides it where it has any."""

    def refuse(self, names: str, *, expected: str, got: Any, fix: str | None = None) -> None:
        """Raise the :class:`ConfigError` of a broken combination (for ``check_combinations``)."""
        raise ConfigError(problem(f"{self.WHO}: {names}", expected=expected, got=got, fix=fix))


def declared_check(cls: type, name: str) -> Check | None:
    """The check declared for field ``name`` by ``cls`` or the nearest parent that declares one."""
    for klass in cls.__mro__:
        f = klass.__dict__.get("__dataclass_fields__", {}).get(name)
        if f is not None and "check" in f.metadata:
            return f.metadata["check"]
    return None


@dataclass
class TrainSettings(Settings):
    """The training settings every task shares. A task redeclares a field to change its
    default; the declared check stays."""

    epochs: int = setting(10, bounded(1, MAX_COUNT))  # upper bound; early stopping usually ends sooner
    batch_size: int = setting(32, bounded(1, MAX_COUNT))
    lr: float = setting(1e-3, Real(0, low_open=True))  # Adam's learning rate
    weight_decay: float = setting(0.0, Real(0, note=" (0 = off)"))
    grad_clip_norm: float | None = setting(1.0, Real(0, low_open=True, optional=True))  # clip
    #                                 the total gradient norm; None = no clipping
    ema_decay: float | None = setting(None, Real(0, 1, low_open=True, high_open=True, optional=True,
                                                 note=", e.g. 0.999"))  # evaluate, keep and
    #                                 return a moving average of the weights; None = off
    patience: int = setting(3, Int(0))  # early stopping after this many epochs without improvement
    plateau_patience: int | None = setting(None, Int(0, optional=True))  # epochs without
    #                                 improvement before the lr halves; None = max(1, patience // 3)
    val_fraction: float = setting(0.1, Real(0, 0.9, high_open=True,
                                            fix="use 0 to train on everything without early stopping"))
    max_steps: int | None = setting(None, Int(1, optional=True))  # stop after this many
    #                                 optimizer steps (a time budget); None = no limit
    seed: int = setting(0, Int(0))
    device: str = setting("auto", Rule(is_device, "'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'",
                                       fix="a model runs on a device that computes; use 'auto'"))
    #                                 "auto" (cuda, then mps, then cpu) or a torch device string
    progress: str = setting("auto", Choice(*PROGRESS))  # "auto": a bar on a terminal, a line
    #                                 per epoch otherwise; "bar", "plain" or "none"

    @property
    def plateau_epochs(self) -> int:
        """The plateau patience in force: ``plateau_patience`` or ``max(1, patience // 3)``."""
        if self.plateau_patience is not None:
            return self.plateau_patience
        return max(1, self.patience // 3)

    def trainer_config(self, *, validation: bool, **task: Any) -> TrainConfig:
        """The :class:`~rnnkit.train.TrainConfig` of these settings: Adam, early stopping and
        a plateau schedule when there is ``validation`` data, and the task's own trainer
        options (``monitor``, ``tbptt_steps`` …) in ``task``."""
        values = dict(epochs=self.epochs, lr=self.lr, optimizer="adam", seed=self.seed,
                      weight_decay=self.weight_decay, grad_clip_norm=self.grad_clip_norm,
                      ema_decay=self.ema_decay, device=self.device, progress=self.progress,
                      max_steps=self.max_steps, patience=self.patience if validation else None,
                      schedule="plateau" if validation else "none",
                      plateau_patience=self.plateau_epochs)
        values.update(task)
        return TrainConfig(**values)
