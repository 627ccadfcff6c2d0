"""Parse JSON from a model file without letting its shape cost memory or a traceback.

:func:`json.loads` builds every list and dict before anyone can look at them: 63 MB of
``[],`` is 21 million lists (about 2 GB), and 100,000 nested ``[`` end in a
RecursionError. :func:`loads_bounded` therefore pre-scans the bytes first, skipping
strings, and refuses nesting deeper than ``max_depth``, more than ``max_containers``
lists and dicts or more than ``max_values`` commas; the scan stops at the first limit
passed, so it costs little even for a hostile file. Whatever ``json.loads`` still raises
(a 5,000-digit int is a ValueError since Python 3.11's int digit limit, a duplicate key)
becomes one :class:`~rnnkit.errors.BundleError` line.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rnnkit.errors import BundleError, problem

# A JSON string (with its escapes) or one structural character outside strings.
_TOKENS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]', re.DOTALL)


def prescan(data: bytes, where: str, *, max_depth: int, max_containers: int,
            max_values: int) -> None:
    """Refuse ``data`` whose nesting, container count or comma count is over a limit."""
    depth = containers = commas = 0
    fix = "the file is corrupt or not made by rnnkit"
    for match in _TOKENS.finditer(data):
        c = match.group()[0]
        if c == 0x22:  # '"': a whole string, skipped
            continue
        if c == 0x2C:  # ','
            commas += 1
            if commas >= max_values:
                raise BundleError(problem(f"{where}: too many values", expected=f"at most "
                                          f"{max_values:,}", got="more", fix=fix))
        elif c in (0x5B, 0x7B):  # '[', '{'
            depth += 1
            containers += 1
            if depth > max_depth:
                raise BundleError(problem(f"{where}: JSON nested too deeply", expected=f"at "
                                          f"most {max_depth} levels", got="more", fix=fix))
            if containers > max_containers:
                raise BundleError(problem(f"{where}: too many JSON lists and objects",
                                          expected=f"at most {max_containers:,}",
                                          got="more", fix=fix))
        else:  # ']', '}'
            depth -= 1


def loads_bounded(data: bytes, where: str, *, max_depth: int, max_containers: int,
                  max_values: int) -> Any:
    """``json.loads(data)`` after :func:`prescan`; every failure is one BundleError line."""
    prescan(data, where, max_depth=max_depth, max_containers=max_containers,
            max_values=max_values)
    try:
        return json.loads(data.decode("utf-8"), object_pairs_hook=_unique_keys)
    except (UnicodeDecodeError, ValueError, RecursionError, MemoryError) as err:
        # json.JSONDecodeError is a ValueError; so are the int digit limit and _unique_keys
        # the first clause only: Python's advice to raise its int digit limit is not ours
        reason = str(err).split(";")[0].splitlines()[0][:200] if str(err) else type(err).__name__
        raise BundleError(f"{where} is not valid JSON ({reason}; save the model again, or "
                          f"restore the file from a good copy)") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A dict from ``pairs``, refusing a repeated key (readers disagree on which wins)."""
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"duplicate key {dup!r}")
    return result
