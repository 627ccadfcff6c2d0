"""Settings dataclasses read from plain dicts (Python keywords, TOML tables)."""

from __future__ import annotations

from dataclasses import fields
from typing import TypeVar

from rnnkit.errors import ConfigError, unknown_name

T = TypeVar("T")


def strict_from_dict(cls: type[T], values: dict, what: str) -> T:
    """``cls(**values)``, refusing an unknown key with the nearest valid name."""
    names = {f.name for f in fields(cls)}
    for key in values:
        if key not in names:
            raise ConfigError(unknown_name(what, key, names))
    return cls(**values)
