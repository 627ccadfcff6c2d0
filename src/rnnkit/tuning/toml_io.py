"""Reading a config that may carry a ``[tune]`` table, and writing one back as TOML.

``read_config`` knows only ``[task] [data] [model] [train]``, so the ``[tune]`` table is
taken off here and the rest goes through the same checks and ``--set`` rules
(:func:`rnnkit.config_file.config_from_tables`).
"""

from __future__ import annotations

import math
from pathlib import Path

from rnnkit.config_file import config_from_tables, read_toml
from rnnkit.errors import ConfigError


def read_tune_config(path: str | Path, overrides: list[str] = ()):
    """``(RunConfig, tune table or None)`` from a config file."""
    raw = read_toml(path)
    tune = raw.pop("tune", None)
    return config_from_tables(raw, overrides), tune


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else ("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf"))
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(x)}" for k, x in v.items()) + "}"
    raise ConfigError(f"cannot write {v!r} ({type(v).__name__}) to TOML")


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() else _value(k)


def dumps(tables: dict[str, dict], header: str = "") -> str:
    """TOML text of ``{table: {key: value}}`` (values: str, int, float, bool, lists, inline dicts;
    None values are left out, TOML has no null)."""
    lines = [f"# {line}" for line in header.splitlines()]
    for name, table in tables.items():
        lines += ["", f"[{name}]"] if lines else [f"[{name}]"]
        lines += [f"{_key(k)} = {_value(v)}" for k, v in table.items() if v is not None]
    return "\n".join(lines) + "\n"
