"""TOML run configs: ``[task] [data] [model] [train]`` tables, every key with a default.

An unknown table or key is an error naming the nearest valid one. ``--set k=v`` overrides
a key (``model.hidden_size=32``, or one of a sub-table: ``model.decoding.beam=3``); the
value is read as TOML (numbers, booleans, strings, lists), falling back to a plain string.
Which ``[data]`` keys a task reads is up to the task (``rnnkit.cli.<task>.DATA_KEYS``);
:data:`DATA_KEYS` is all of them, for the spelling check here. ``[task] mode`` picks the use
of a task that has several (seq2seq: ``"translate"`` or ``"chat"``); a sub-table such as
``[model.decoding]`` arrives as a dict (``Seq2Seq(decoding={...})``).

Example::

    [task]
    name = "forecast"

    [data]
    dataset = "seattle-weather"     # or: path = "my.csv"
    time = "date"
    target = "temp_max"

    [model]
    cell = "gru"
    lookback = 56
    horizon = 7

    [train]
    epochs = 30
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import tomllib

from rnnkit.errors import ConfigError, problem, unknown_name

TABLES = ("task", "data", "model", "train")
DATA_KEYS = ("dataset", "path", "time", "target", "id", "past_covariates", "static_covariates",
             "label", "text", "label_sep", "encoding", "separator", "source", "limit",
             "train_fraction", "max_source_words", "max_target_words")
TASK_KEYS = ("name", "mode")


@dataclass
class RunConfig:
    task: str = "forecast"
    data: dict = field(default_factory=dict)
    model: dict = field(default_factory=dict)
    train: dict = field(default_factory=dict)
    mode: str | None = None  # [task] mode: what a task with several uses does (seq2seq: "translate" or "chat")


def parse_value(text: str):
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(raw: dict, overrides: list[str]) -> dict:
    for item in overrides:
        if "=" not in item or "." not in item.split("=", 1)[0]:
            raise ConfigError(f"--set {item!r}: expected TABLE.KEY=VALUE, e.g. model.hidden_size=32")
        key, value = item.split("=", 1)
        table, *path, name = key.strip().split(".")
        if table not in TABLES:
            raise ConfigError(unknown_name("config table", table, TABLES))
        place = raw.setdefault(table, {})
        for part in path:  # model.decoding.beam: the key beam of the sub-table [model.decoding]
            place = place.setdefault(part, {})
            if not isinstance(place, dict):
                raise ConfigError(problem(f"--set {item!r}: {table}.{'.'.join(path)}", expected="a "
                                          "sub-table", got=f"the value {place!r}"))
        place[name] = parse_value(value)
    return raw


def read_toml(path: str | Path) -> dict:
    """The tables of a TOML config file, with clear errors for a missing or invalid file."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"config file {str(path)!r} does not exist")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"config file {str(path)!r} is not valid TOML: {err}") from err


def read_config(path: str | Path, overrides: list[str] = ()) -> RunConfig:
    return config_from_tables(read_toml(path), overrides)


def config_from_tables(raw: dict, overrides: list[str] = ()) -> RunConfig:
    """A :class:`RunConfig` from parsed tables plus ``--set`` overrides, every key checked."""
    raw = apply_overrides(raw, list(overrides))
    for table in raw:
        if table not in TABLES:
            raise ConfigError(unknown_name("config table", table, TABLES))
    for key in raw.get("task", {}):
        if key not in TASK_KEYS:
            raise ConfigError(unknown_name("[task] key", key, TASK_KEYS))
    for key in raw.get("data", {}):
        if key not in DATA_KEYS:
            raise ConfigError(unknown_name("[data] key", key, DATA_KEYS))
    task = raw.get("task", {})
    return RunConfig(task.get("name", "forecast"), raw.get("data", {}), raw.get("model", {}),
                     raw.get("train", {}), task.get("mode"))
