"""The attention heat-map of one translation: a row per output token, a column per source
token, darker = more weight (each row sums to 1)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def attention_figure(source: list[str], target: list[str], weights: np.ndarray,
                     title: str = "Attention: output token over source tokens"):
    """A matplotlib figure (Agg) of ``weights`` ``(len(target), len(source))``."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    T, S = weights.shape
    fig = Figure(figsize=(max(4.0, 0.45 * S + 2), max(3.0, 0.4 * T + 1.5)))
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(weights, cmap="Greys", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(S), labels=source, rotation=60, ha="right")
    ax.set_yticks(range(T), labels=target)
    ax.set_xlabel("source token")
    ax.set_ylabel("output token")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.04, label="attention weight (row sums to 1)")
    fig.tight_layout()
    return fig


def save_attention(source: list[str], target: list[str], weights: np.ndarray, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    attention_figure(source, target, weights).savefig(path, dpi=100, format="png")
    return path
