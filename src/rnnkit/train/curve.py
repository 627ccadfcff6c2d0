"""The training curve, ``training_curve.png``: loss and the monitored metric by epoch.

Losses share the left axis; a monitored metric that is not a loss (``val_accuracy``,
``val_mase`` ...) gets its own axis on the right, labelled with its name. The loss axis
turns logarithmic when its positive values span more than a decade (the first epochs
would flatten everything after them otherwise); a dashed line marks the best epoch of
the monitored metric.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

DECADE = 10.0  # max / min of the positive losses above which the loss axis is logarithmic


def spans_decades(values: list[float]) -> bool:
    """True when every finite value is positive and the largest is more than
    :data:`DECADE` times the smallest (a log axis reads them; a linear one flattens them)."""
    finite = [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]
    return bool(finite) and min(finite) > 0 and max(finite) > DECADE * min(finite)


def _series(rows: list[dict[str, Any]], key: str) -> list[float]:
    return [float(row[key]) if isinstance(row.get(key), (int, float)) else math.nan for row in rows]


def _best(values: list[float], mode: str) -> int | None:
    finite = [(v, i) for i, v in enumerate(values) if math.isfinite(v)]
    if not finite:
        return None
    return (min(finite) if mode == "min" else max(finite))[1]


def draw_curve(ax, rows: list[dict[str, Any]], monitor: str, mode: str = "min") -> None:
    """Draw the curve of ``rows`` (one dict per epoch) on the matplotlib Axes ``ax``."""
    from matplotlib.ticker import MaxNLocator

    epochs = [row["epoch"] for row in rows]
    seen = any(monitor in row for row in rows)
    losses = _draw_losses(ax, rows, epochs, monitor if seen and monitor.endswith("loss") else None)
    ax.set_title(f"Training curve (monitored: {monitor})")
    ax.set_xlabel("epoch")
    if len(epochs) <= 12:
        ax.set_xticks(epochs)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    metric_ax = ax
    if seen and monitor not in losses:  # a metric on its own scale, on the right
        metric_ax = ax.twinx()
        metric_ax.plot(epochs, _series(rows, monitor), marker="s", color="C2", label=monitor)
        metric_ax.set_ylabel(monitor)
    best = _best(_series(rows, monitor), mode) if seen else None
    if best is not None:
        ax.axvline(epochs[best], color="0.5", linestyle="--", linewidth=1,
                   label=f"best {monitor} (epoch {epochs[best]})")
    _legend(ax, metric_ax)


def _draw_losses(ax, rows, epochs, monitored_loss: str | None) -> list[str]:
    """The losses on ``ax`` (log scale when they span decades); returns their names."""
    losses = [k for k in ("train_loss", "val_loss") if any(k in row for row in rows)]
    if monitored_loss is not None and monitored_loss not in losses:
        losses.append(monitored_loss)
    for key in losses:
        ax.plot(epochs, _series(rows, key), marker="o", label=key)
    log = spans_decades([v for key in losses for v in _series(rows, key)])
    if log:
        ax.set_yscale("log")
    ax.set_ylabel("loss (log scale)" if log else "loss")
    ax.grid(alpha=0.3, which="both" if log else "major")
    return losses


def _legend(ax, metric_ax) -> None:
    """One legend for both axes: inside for one scale, below the axes for two (where it
    hides neither)."""
    handles, labels = ax.get_legend_handles_labels()
    if metric_ax is ax:
        ax.legend(handles, labels, loc="best", fontsize="small")
        return
    more = metric_ax.get_legend_handles_labels()
    metric_ax.legend(handles + more[0], labels + more[1], loc="upper center",
                     bbox_to_anchor=(0.5, -0.14), ncol=2, fontsize="small", frameon=False)


def plot_curve(rows: list[dict[str, Any]], monitor: str, path: Path, mode: str = "min") -> None:
    """Write the training curve of ``rows`` to ``path`` as a PNG (Agg, no pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.6), dpi=100)
    FigureCanvasAgg(fig)
    draw_curve(fig.add_subplot(), rows, monitor, mode)
    fig.tight_layout()
    fig.savefig(path)
