"""Known anomalies injected into a real series at seeded, documented positions.

:func:`inject` copies ``values`` ``(T,)`` or ``(T, C)`` and changes one channel in
``[start, T)``, which is split into ``len(kinds)`` equal slots; anomaly ``k`` lies inside
slot ``k`` at an offset drawn from ``numpy.random.default_rng(seed)``. With ``σ`` the
standard deviation of the channel in ``[0, start)`` and ``n = clip(T // 60, 6, 48)``
steps for the anomalies that last:

* ``spike``: one point moves by ``±3σ`` (random sign);
* ``level_shift``: ``n`` points move by ``±1.5σ``;
* ``drift``: ``n`` points move by a ramp from 0 to ``+2σ`` (then the series is back);
* ``frozen``: ``n`` points repeat the value just before them (a stuck sensor).

Every changed point is labelled 1; :class:`Injection` records each anomaly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnkit.errors import ConfigError, DataError, problem, unknown_name

KINDS = ("spike", "level_shift", "drift", "frozen")
DEFAULT_KINDS = ("spike", "level_shift", "spike", "drift", "frozen")


@dataclass(frozen=True)
class Injection:
    kind: str
    start: int
    end: int  # inclusive
    magnitude: float  # in units of the series (0 for frozen)


def anomaly_length(T: int) -> int:
    return int(np.clip(T // 60, 6, 48))


def inject(values, *, start: int, kinds=DEFAULT_KINDS, seed: int = 0, channel: int = 0):
    """Returns ``(values with anomalies, labels (T,) int, [Injection, ...])``."""
    for kind in kinds:
        if kind not in KINDS:
            raise ConfigError(unknown_name("anomaly kind", kind, KINDS))
    out = np.array(values, dtype=np.float64, copy=True)
    col = out if out.ndim == 1 else out[:, channel]  # a view: edits go into out
    T, n = len(col), anomaly_length(len(col))
    slot = (T - start) // max(len(kinds), 1)
    if start < 2 or slot < n + 4:
        raise DataError(problem("inject: room after start", expected=f"{len(kinds)} slots of >= {n + 4} "
                                "steps", got=f"{T - start} steps from start={start}"))
    sigma = float(np.std(col[:start]))
    rng = np.random.default_rng(seed)
    labels, done = np.zeros(T, dtype=np.int64), []
    for k, kind in enumerate(kinds):
        length = 1 if kind == "spike" else n
        lo = start + k * slot + 2
        a = int(rng.integers(lo, start + (k + 1) * slot - length - 1))
        b = a + length - 1
        done.append(_apply(col, kind, a, b, sigma, rng))
        labels[a:b + 1] = 1
    return out, labels, done


def _apply(col: np.ndarray, kind: str, a: int, b: int, sigma: float, rng) -> Injection:
    if kind == "spike":
        size = float(rng.choice([-1.0, 1.0])) * 3.0 * sigma
        col[a] += size
    elif kind == "level_shift":
        size = float(rng.choice([-1.0, 1.0])) * 1.5 * sigma
        col[a:b + 1] += size
    elif kind == "drift":
        size = 2.0 * sigma
        col[a:b + 1] += np.linspace(size / (b - a + 1), size, b - a + 1)
    else:
        size = 0.0
        col[a:b + 1] = col[a - 1]
    return Injection(kind, a, b, size)
