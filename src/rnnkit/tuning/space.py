"""The search space of ``rnnkit tune``: a ``[tune]`` table, or a default per task.

Each key names a setting and its range, read by the shape of the value::

    [tune]
    cell = ["lstm", "gru"]       # a list of strings (or of more than two values): categorical
    hidden_size = [16, 128]      # two integers: an integer range (log scale for sizes)
    num_layers = [1, 2]
    lr = [1e-4, 1e-2]            # two floats: a float range (log scale for lr, weight_decay)
    dropout = [0.0, 0.5]         # linear scale
    lookback = [14, 112]         # forecast only

A single value (``cell = "gru"``) fixes the setting. Keys outside the task's list are an
error naming the nearest one.
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnkit.errors import ConfigError, problem, unknown_name

KEYS = {
    "forecast": ("cell", "hidden_size", "num_layers", "dropout", "lr", "lookback", "batch_size",
                 "weight_decay", "recurrent_dropout", "zoneout", "layer_norm"),
    "classify-text": ("cell", "hidden_size", "num_layers", "dropout", "lr", "batch_size", "weight_decay",
                      "embedding_dim", "attention_size", "max_length", "bidirectional"),
}
DEFAULTS = {
    "forecast": {"cell": ["lstm", "gru"], "hidden_size": [16, 128], "num_layers": [1, 2],
                 "dropout": [0.0, 0.3], "lr": [1e-4, 1e-2], "lookback": [14, 112]},
    "classify-text": {"cell": ["lstm", "gru"], "hidden_size": [32, 128], "dropout": [0.0, 0.5],
                      "lr": [3e-4, 1e-2]},
}
LOG_SCALE = ("hidden_size", "lookback", "batch_size", "embedding_dim", "attention_size", "max_length",
             "lr", "weight_decay")
TRAIN_KEYS = ("lr", "batch_size", "weight_decay")  # written to [train] in best.toml; the rest to [model]


@dataclass(frozen=True)
class Dimension:
    name: str
    kind: str  # "categorical", "int", "float" or "fixed"
    values: tuple

    def suggest(self, trial):
        if self.kind == "fixed":
            return self.values[0]
        if self.kind == "categorical":
            return trial.suggest_categorical(self.name, list(self.values))
        low, high = self.values
        log = self.name in LOG_SCALE and low > 0
        if self.kind == "int":
            return trial.suggest_int(self.name, low, high, log=log)
        return trial.suggest_float(self.name, low, high, log=log)


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def dimension(name: str, spec) -> Dimension:
    if not isinstance(spec, list):
        return Dimension(name, "fixed", (spec,))
    if not spec:
        raise ConfigError(problem(f"[tune] {name}", expected="a value, a list of choices or [low, high]",
                                  got="[]"))
    if len(spec) == 2 and all(_is_num(v) for v in spec):
        low, high = spec
        if not low < high:
            raise ConfigError(problem(f"[tune] {name}", expected="[low, high] with low < high",
                                      got=spec, fix="or list more than two values for a choice"))
        kind = "int" if all(isinstance(v, int) for v in spec) else "float"
        return Dimension(name, kind, (low, high) if kind == "int" else (float(low), float(high)))
    return Dimension(name, "categorical", tuple(spec))


def parse_space(task: str, table: dict | None) -> list[Dimension]:
    """Dimensions of ``table`` (the ``[tune]`` table), or the task's default space when None."""
    if task not in KEYS:
        raise ConfigError(unknown_name("task for tune (supported: forecast, classify-text)", task, KEYS))
    table = DEFAULTS[task] if table is None else table
    if not table:
        raise ConfigError(problem("[tune]", expected="at least one setting to search", got="an empty table",
                                  fix=f"e.g. cell = {DEFAULTS[task]['cell']}, or drop the table for the default space"))
    for key in table:
        if key not in KEYS[task]:
            raise ConfigError(unknown_name(f"[tune] key for task {task!r}", key, KEYS[task]))
    return [dimension(k, v) for k, v in table.items()]
