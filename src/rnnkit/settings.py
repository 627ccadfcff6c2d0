"""Settings dataclasses read from plain dicts (Python keywords, TOML tables)."""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, fields
from typing import ClassVar, TypeVar

from rnnkit.errors import ConfigError, problem, unknown_name

T = TypeVar("T")


def strict_from_dict(cls: type[T], values: dict, what: str) -> T:
    """``cls(**values)``, refusing an unknown key with the nearest valid name."""
    names = {f.name for f in fields(cls)}
    for key in values:
        if key not in names:
            raise ConfigError(unknown_name(what, key, names))
    return cls(**values)


class StrictSettings:
    """Mixin of a settings dataclass: ``from_dict`` refuses an unknown key (naming the
    nearest valid one, as a ``SETTING``), ``to_dict`` gives plain values for a model file."""

    SETTING: ClassVar[str] = "setting"

    @classmethod
    def from_dict(cls, values: dict):
        return strict_from_dict(cls, values, cls.SETTING)

    def to_dict(self) -> dict:
        return asdict(self)


def number(value) -> bool:
    """A finite int or float (bools are not numbers here)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_int(name: str, value, low: int, optional: bool = False, who: str = "settings") -> None:
    """Refuse ``value`` unless it is an int ``>= low`` (the caller lets None through)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        expected = f"an integer >= {low}" + (" or None" if optional else "")
        raise ConfigError(problem(f"{who}: {name}", expected=expected, got=repr(value)))


def check_ema_decay(value, who: str = "settings") -> None:
    """Refuse ``value`` unless it is None or a number in (0, 1) (the weights' moving average)."""
    if value is not None and not (number(value) and 0 < value < 1):
        raise ConfigError(problem(f"{who}: ema_decay", expected="None or a number in (0, 1), "
                                  "e.g. 0.999", got=repr(value)))


class ConfigParams:
    """scikit-learn's ``get_params`` / ``set_params`` / ``clone`` for an estimator whose
    settings live in ``self.config``, a dataclass with ``from_dict`` that checks them."""

    def get_params(self, deep: bool = True) -> dict:
        return {f.name: getattr(self.config, f.name) for f in fields(self.config)}

    def set_params(self, **params):
        self.config = type(self.config).from_dict({**self.get_params(), **params})
        return self

    def clone(self):
        """An unfitted copy with the same settings."""
        return type(self)(**copy.deepcopy(self.get_params()))
