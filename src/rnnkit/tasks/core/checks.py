"""Declared constraints of a setting: small checks a settings dataclass attaches to a field.

A field declares its rule where it is defined::

    hidden_size: int = setting(64, Int(1))            # encoder width
    dropout: float = setting(0.0, Real(0, 1, high_open=True))
    cell: str = setting("lstm", Choice("lstm", "gru", "rnn"))

and :meth:`rnnkit.tasks.core.Settings.validate` runs every field's check, so no task
writes a ``validate()`` by hand for single values. Each check raises
:class:`~rnnkit.errors.ConfigError` with what, expected, got and (where useful) the fix.
"""

from __future__ import annotations

import math
from dataclasses import MISSING, field
from typing import Any, Callable

from rnnkit.errors import ConfigError, problem, unknown_name


def setting(default: Any = MISSING, check: "Check | None" = None, *, factory: Callable | None = None):
    """A dataclass field with a default and a declared check (``metadata["check"]``)."""
    meta = {} if check is None else {"check": check}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


def is_number(value: Any) -> bool:
    """A finite int or float (bools are not numbers here)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class Check:
    """One rule for one value. ``optional=True`` lets None through (None = off/automatic)."""

    optional: bool = False
    fix: str | None = None

    def expected(self) -> str:  # what a valid value looks like, for the message
        raise NotImplementedError

    def accepts(self, value: Any) -> bool:
        raise NotImplementedError

    def __call__(self, who: str, name: str, value: Any) -> None:
        if value is None and self.optional:
            return
        if not self.accepts(value):
            expected = self.expected() + (" or None" if self.optional else "")
            raise ConfigError(problem(f"{who}: {name}", expected=expected, got=repr(value),
                                      fix=self.fix))


class Int(Check):
    """An int (not a bool) in ``[low, high]``."""

    def __init__(self, low: int | None = None, high: int | None = None, *, optional: bool = False,
                 fix: str | None = None) -> None:
        self.low, self.high, self.optional, self.fix = low, high, optional, fix

    def expected(self) -> str:
        if self.high is None:
            return "an integer" if self.low is None else f"an integer >= {self.low}"
        return f"an integer in [{self.low}, {self.high}]"

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int):
            return False
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


class Real(Check):
    """A finite number in an interval; ``low_open`` / ``high_open`` exclude the ends."""

    def __init__(self, low: float | None = None, high: float | None = None, *, low_open: bool = False,
                 high_open: bool = False, optional: bool = False, fix: str | None = None,
                 note: str = "") -> None:
        self.low, self.high, self.low_open, self.high_open = low, high, low_open, high_open
        self.optional, self.fix, self.note = optional, fix, note

    def expected(self) -> str:
        if self.high is None and self.low is not None:
            text = f"a number {'>' if self.low_open else '>='} {self.low:g}"
        elif self.low is None and self.high is not None:
            text = f"a number {'<' if self.high_open else '<='} {self.high:g}"
        elif self.low is None:
            text = "a finite number"
        else:
            text = (f"a number in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}"
                    f"{')' if self.high_open else ']'}")
        return text + self.note

    def accepts(self, value: Any) -> bool:
        if not is_number(value):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)


class Choice(Check):
    """One of a fixed set of values; an unknown string names the nearest valid one."""

    def __init__(self, *choices: Any, optional: bool = False) -> None:
        self.choices, self.optional = choices, optional

    def expected(self) -> str:
        return "one of " + ", ".join(map(repr, self.choices))

    def accepts(self, value: Any) -> bool:
        return any(value == c and type(value) is type(c) for c in self.choices)

    def __call__(self, who: str, name: str, value: Any) -> None:
        if (value is None and self.optional) or self.accepts(value):
            return
        names = [str(c) for c in self.choices] + (["None"] if self.optional else [])
        raise ConfigError(f"{who}: " + unknown_name(name, str(value), names))


class Flag(Check):
    """True or False (not 0/1)."""

    def expected(self) -> str:
        return "True or False"

    def accepts(self, value: Any) -> bool:
        return isinstance(value, bool)


def is_frequency(value: Any) -> bool:
    """A pandas frequency string (``"D"``, ``"h"``, ``"W-SUN"``, ``"MS"`` …) whose step is
    longer than zero: what resampling and the calendar features can use."""
    if not isinstance(value, str) or not value or len(value) > 32:
        return False
    from rnnkit.data.calendar import step_days

    try:
        return math.isfinite(days := step_days(value)) and days > 0
    except (ValueError, TypeError, OverflowError, ArithmeticError):
        return False


FREQUENCY = "a pandas frequency such as 'D', 'h', 'W-SUN' or 'MS'"


class Rule(Check):
    """A check given as a predicate and the text of what it expects."""

    def __init__(self, predicate: Callable[[Any], bool], expected: str, *, optional: bool = False,
                 fix: str | None = None) -> None:
        self.predicate, self.text, self.optional, self.fix = predicate, expected, optional, fix

    def expected(self) -> str:
        return self.text

    def accepts(self, value: Any) -> bool:
        try:
            return bool(self.predicate(value))
        except (TypeError, ValueError):
            return False
