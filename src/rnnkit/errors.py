"""Exceptions raised by rnnkit.

Every message says four things: *what* is wrong, what was *expected*, what was *got*,
and the *fix*. Use :func:`problem` to build one so they read the same everywhere::

    raise ShapeError(problem("LSTM: input feature size", expected="input_size=4", got=3,
                             fix="set input_size=3 or check the CSV columns"))
"""

from __future__ import annotations

import difflib
from typing import Iterable


class RnnkitError(Exception):
    """Base class of every error rnnkit raises on purpose."""


class ConfigError(RnnkitError, ValueError):
    """A constructor argument or config key is invalid."""


class ShapeError(RnnkitError, ValueError):
    """A tensor or array has the wrong rank or size."""


class DataError(RnnkitError, ValueError):
    """Input data is unusable: NaN, empty, wrong type, unknown column."""


class NotFittedError(RnnkitError, RuntimeError):
    """An estimator was used before ``fit``."""


class BundleError(RnnkitError, ValueError):
    """A model file is corrupt, truncated, tampered with or of an unknown version."""


class NonFiniteError(RnnkitError, FloatingPointError):
    """Training met a NaN or infinite loss or gradient."""


def problem(what: str, *, expected: object, got: object, fix: str | None = None) -> str:
    """Format an error message: ``what: expected X, got Y (fix)``."""
    message = f"{what}: expected {expected}, got {got}"
    if fix:
        message += f" ({fix})"
    return message


def nearest(name: str, choices: Iterable[str]) -> str | None:
    """The closest valid name to a misspelled one, or None when nothing is close."""
    matches = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return matches[0] if matches else None


def unknown_name(kind: str, name: str, choices: Iterable[str]) -> str:
    """Message for an unknown key/column/option that suggests the nearest valid one."""
    choices = sorted(choices)
    guess = nearest(name, choices)
    hint = f"did you mean {guess!r}?" if guess else f"valid: {', '.join(map(repr, choices))}"
    return f"unknown {kind} {name!r}; {hint}"
