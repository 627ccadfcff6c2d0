"""One shape for evaluation results: a table of models by metrics, per-group breakdowns, a plot.

Every estimator's ``evaluate`` returns a :class:`Report` (a task's subclass adds what only
it has: confusion matrices, forecasts, outputs)::

    report = est.evaluate(...)
    report.table            # one row per model (rnnkit first), one column per metric
    report.groups["voice"]  # the same columns per group, for each breakdown the task makes
    report.plot("wer")      # a bar chart of one metric across models (a matplotlib Figure)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from rnnkit.errors import ConfigError, unknown_name


@dataclass
class Report:
    """``table``: rows are models (rnnkit first), columns metrics. ``groups``: name of a
    breakdown -> a table with the same metric columns, one row per group."""

    table: pd.DataFrame
    groups: dict[str, pd.DataFrame] = field(default_factory=dict, kw_only=True)

    @property
    def metrics(self) -> dict[str, dict[str, float]]:
        """The table as ``{model: {metric: value}}`` (what a model file keeps)."""
        return self.table.to_dict(orient="index")

    def fields_note(self) -> str:
        """The attributes beyond ``table`` and ``groups``, for the repr's first line."""
        return ""

    def __repr__(self) -> str:
        fmt = lambda v: f"{v:.3f}"  # noqa: E731
        extra = self.fields_note()
        text = f"{type(self).__name__} (.table{', .groups' if self.groups else ''}" \
               f"{', ' + extra if extra else ''})\n{self.table.to_string(float_format=fmt)}"
        for name, table in self.groups.items():
            text += f"\n\nby {name}:\n{table.to_string(float_format=fmt)}"
        return text

    __str__ = __repr__

    def to_markdown(self, digits: int = 3) -> str:
        """The table as a Markdown table (models as rows)."""
        t = self.table
        head = [t.index.name or "model", *map(str, t.columns)]
        rows = [[str(i), *(_cell(v, digits) for v in row)] for i, row in zip(t.index, t.to_numpy())]
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])

    def plot(self, metric: str | None = None, path: str | Path | None = None, *, group: str | None = None):
        """A horizontal bar chart of ``metric`` (default: the first column) per model, or per
        group of breakdown ``group``; saved to ``path`` when given. Returns the Figure."""
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        table = self.table if group is None else self._group(group)
        metric = metric if metric is not None else str(table.columns[0])
        if metric not in table.columns:
            raise ConfigError(unknown_name("metric", metric, map(str, table.columns)))
        values = pd.to_numeric(table[metric], errors="coerce")
        fig, ax = plt.subplots(figsize=(6, 0.5 * len(values) + 1.2))
        ax.barh([str(i) for i in values.index], values.to_numpy())
        ax.invert_yaxis()
        by = group or table.index.name or "model"
        ax.set_xlabel(metric)
        ax.set_ylabel(by)
        ax.set_title(f"{metric} by {by}")
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=120)
        return fig

    def _group(self, name: str) -> pd.DataFrame:
        if name not in self.groups:
            raise ConfigError(unknown_name("breakdown", name, self.groups))
        return self.groups[name]


def _cell(value, digits: int) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)
