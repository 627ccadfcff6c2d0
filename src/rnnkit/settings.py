"""Settings dataclasses read from plain dicts (Python keywords, TOML tables)."""

from __future__ import annotations

import math
from dataclasses import fields
from typing import TypeVar

from rnnkit.errors import ConfigError, problem, unknown_name

T = TypeVar("T")


def strict_from_dict(cls: type[T], values: dict, what: str) -> T:
    """``cls(**values)``, refusing an unknown key with the nearest valid name."""
    names = {f.name for f in fields(cls)}
    for key in values:
        if key not in names:
            raise ConfigError(unknown_name(what, key, names))
    return cls(**values)


def number(value) -> bool:
    """A finite int or float (bools are not numbers here)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_int(name: str, value, low: int, optional: bool = False, who: str = "settings") -> None:
    """Refuse ``value`` unless it is an int ``>= low`` (the caller lets None through)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        expected = f"an integer >= {low}" + (" or None" if optional else "")
        raise ConfigError(problem(f"{who}: {name}", expected=expected, got=repr(value)))
