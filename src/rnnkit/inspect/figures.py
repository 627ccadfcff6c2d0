"""The pictures of :mod:`rnnkit.inspect`, as matplotlib figures (Agg, no display needed).

Each figure keeps the exact array it draws (``ax.images[0].get_array()`` or the line's
data), so a test can check a picture against the model's own tensors.

Heat-maps put time on the x axis and units on the y axis: ``values`` ``(T, U)`` is drawn
transposed, one column per step.
"""

from __future__ import annotations

import numpy as np

_MAX_TICKS = 40


def _figure(width: float, height: float):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def _time_ticks(ax, labels: list[str] | None, T: int, rotation: int = 60) -> None:
    if not labels:
        return
    every = max(1, int(np.ceil(T / _MAX_TICKS)))
    ticks = list(range(0, T, every))
    ax.set_xticks(ticks, labels=[str(labels[t]) for t in ticks], rotation=rotation, ha="right", fontsize=7)


def _width(T: int) -> float:
    return float(min(18.0, max(6.0, 0.16 * T + 3)))


def heatmap(values: np.ndarray, title: str, labels: list[str] | None = None, *,
            vmin: float = -1.0, vmax: float = 1.0, cmap: str = "coolwarm", ylabel: str = "unit",
            xlabel: str = "step", rows: list[str] | None = None):
    """One heat-map of ``values`` ``(T, U)``: x = step (named ``xlabel``), y = unit (named
    ``ylabel``; ``rows``: a tick label per unit, e.g. feature names)."""
    T, U = values.shape
    fig = _figure(_width(T), min(10.0, max(2.5, 0.05 * U + 2)))
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(values.T, aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.set_xlabel(xlabel)
    if rows is not None and len(rows) == U and U <= _MAX_TICKS:
        ax.set_yticks(range(U), labels=rows, fontsize=7)
    _time_ticks(ax, labels, T)
    fig.colorbar(image, ax=ax, fraction=0.03)
    fig.tight_layout()
    return fig


def panels(items: list[tuple[str, np.ndarray, float, float]], title: str, labels: list[str] | None = None,
           *, xlabel: str = "step"):
    """Stacked heat-maps sharing the time axis: ``(name, values (T, U), vmin, vmax)`` each;
    y = unit of each panel (named by the panel), x = step (named ``xlabel``)."""
    T = items[0][1].shape[0]
    fig = _figure(_width(T), 1.9 * len(items) + 1.0)
    axes = fig.subplots(len(items), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (name, values, lo, hi) in zip(axes, items):
        cmap = "viridis" if lo == 0.0 else "coolwarm"
        image = ax.imshow(values.T, aspect="auto", cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
        ax.set_ylabel(f"{name}\n(hidden unit)", fontsize=8)
        fig.colorbar(image, ax=ax, fraction=0.03)
    axes[0].set_title(title)
    axes[-1].set_xlabel(xlabel)
    _time_ticks(axes[-1], labels, T)
    fig.tight_layout()
    return fig


def gradient_plot(norms: np.ndarray, title: str, labels: list[str] | None = None, *,
                  xlabel: str = "step"):
    """``||∂s/∂x_t||`` against the step (named ``xlabel``), on a log scale."""
    T = len(norms)
    fig = _figure(_width(T), 3.2)
    ax = fig.add_subplot(1, 1, 1)
    shown = np.where(norms > 0, norms, np.nan)
    ax.plot(np.arange(T), shown, marker="o", markersize=3)
    if np.isfinite(shown).any():
        ax.set_yscale("log")
    ax.set_title(title)
    ax.set_ylabel("‖∂ output / ∂ input_t‖ (log scale)")
    ax.set_xlabel(xlabel)
    _time_ticks(ax, labels, T)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    return fig


def token_weights(tokens: list[str], weights: np.ndarray, title: str):
    """A one-row heat-map of per-token weights ``(T,)`` (e.g. attention pooling)."""
    T = len(tokens)
    fig = _figure(_width(T), 2.2)
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(weights[None, :], aspect="auto", cmap="Greys", vmin=0.0,
                      vmax=max(float(weights.max()), 1e-12), interpolation="nearest")
    ax.set_yticks([])
    ax.set_title(title)
    ax.set_xlabel("token")
    _time_ticks(ax, tokens, T)
    fig.colorbar(image, ax=ax, fraction=0.03)
    fig.tight_layout()
    return fig


def series_plot(times: list[str], history: np.ndarray, future_times: list[str], forecast: np.ndarray,
                names: list[str], title: str, *, lower: np.ndarray | None = None,
                upper: np.ndarray | None = None, level: float | None = None, ylabel: str | None = None):
    """The input window ``(L, C)`` and the point forecast ``(H, C)`` of each target, with the
    forecast interval ``lower`` / ``upper`` ``(H, C)`` shaded when given (``level``: its
    coverage, for the legend); y = the targets' values, named ``ylabel`` (default: the
    target names)."""
    L, H = len(times), len(future_times)
    fig = _figure(_width(L + H), 3.6)
    ax = fig.add_subplot(1, 1, 1)
    ahead = np.arange(L, L + H)
    for k, name in enumerate(names):
        color = f"C{k % 10}"
        ax.plot(np.arange(L), history[:, k], color=color, label=f"{name} (input)")
        ax.plot(ahead, forecast[:, k], color=color, linestyle="--", marker=".", label=f"{name} (forecast)")
        if lower is not None and upper is not None:
            what = f"{level:.0%} interval" if level else "interval"
            ax.fill_between(ahead, lower[:, k], upper[:, k], color=color, alpha=0.2, label=f"{name} ({what})")
    ax.axvline(L - 0.5, color="0.5", linewidth=1, linestyle=":")
    ax.set_title(title)
    ax.set_xlabel("time")
    ax.set_ylabel(ylabel or ", ".join(names))
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3)
    _time_ticks(ax, list(times) + list(future_times), L + H)
    fig.tight_layout()
    return fig
