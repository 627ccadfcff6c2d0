"""One time step's values from what a caller hands the stream: a mapping of channel
name to number, a sequence in channel order, or a bare number for one channel.

Every problem is a :class:`~rnnkit.errors.DataError` that names the channel, the value
and the fix; nothing is coerced silently (``"3.5"`` is read as a number, ``"abc"``,
``None``, NaN and infinities are refused).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from rnnkit.errors import DataError, nearest, problem


def to_number(value, channel: str) -> float:
    """``value`` as a finite float, or a DataError naming ``channel``."""
    if isinstance(value, bool) or value is None:
        raise DataError(problem(f"channel {channel!r}", expected="a number", got=repr(value)))
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise DataError(problem(f"channel {channel!r}", expected="a number", got=repr(value),
                                fix="clean the value or skip the step")) from None
    if not math.isfinite(number):
        raise DataError(problem(f"channel {channel!r}", expected="a finite number", got=repr(value),
                                fix="the detector cannot score a missing value; fill it or skip "
                                    "the step"))
    return number


def step_values(values, channels: Sequence[str]) -> np.ndarray:
    """``(C,)`` float64 values of one step in the order of ``channels``."""
    if isinstance(values, Mapping):
        return np.array([to_number(_lookup(values, name), name) for name in channels])
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        if len(channels) == 1:
            return np.array([to_number(values, channels[0])])
        raise DataError(problem("step values", expected=f"{len(channels)} values for {list(channels)} "
                                "(a dict by name or a list in that order)", got=repr(values)))
    flat = np.asarray(values, dtype=object).ravel()
    if len(flat) != len(channels):
        raise DataError(problem("step values", expected=f"{len(channels)} values for {list(channels)}",
                                got=f"{len(flat)} values"))
    return np.array([to_number(v, name) for v, name in zip(flat, channels)])


def _lookup(values: Mapping, name: str):
    if name in values:
        return values[name]
    given = [str(k) for k in values]
    guess = nearest(name, given)
    hint = f"did you mean {guess!r}? " if guess else ""
    raise DataError(f"step values: missing channel {name!r}; got keys {given} ({hint}the detector "
                    "was trained on these channels and needs each of them at every step)")
