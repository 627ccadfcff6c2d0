"""Picture of a backtest: history, forecasts, intervals and actuals (PNG)."""

from __future__ import annotations

from pathlib import Path


def plot_backtest(result, path, *, series: int = 0, target: int = 0, context: int = 60,
                  baseline: str = "seasonal_naive", title: str | None = None) -> Path:
    """Draw series ``series``'s backtest windows: actuals, rnnkit's forecast and interval,
    and one baseline for comparison. Returns the path written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = result.series
    times, values = s.times[series], s.values[series][:, target]
    windows = [w for w, (i, _) in enumerate(result.pairs) if i == series]
    if not windows:
        raise ValueError(f"plot_backtest: series {series} has no backtest window")
    first = result.pairs[windows[0]][1]
    start = max(0, first - context)
    fig, ax = plt.subplots(figsize=(11, 4.5))
    ax.plot(times[start:], values[start:], color="black", lw=1.2, label="actual")
    ours, base = result.forecasts["rnnkit"], result.forecasts.get(baseline)
    for n, w in enumerate(windows):
        o = result.pairs[w][1]
        t = times[o: o + ours.point.shape[1]]
        k = len(t)
        ax.plot(t, ours.point[w, :k, target], color="tab:blue", lw=1.6, label="rnnkit" if n == 0 else None)
        if ours.lower is not None:
            ax.fill_between(t, ours.lower[w, :k, target], ours.upper[w, :k, target], color="tab:blue",
                            alpha=0.2, label="rnnkit interval" if n == 0 else None)
        if base is not None:
            ax.plot(t, base.point[w, :k, target], color="tab:orange", lw=1, ls="--",
                    label=baseline.replace("_", " ") if n == 0 else None)
        ax.axvline(times[o], color="grey", lw=0.5, alpha=0.5)
    ax.set_title(title or f"Backtest of {s.targets[target]}: {len(windows)} origins")
    ax.set_ylabel(s.targets[target])
    ax.set_xlabel("time")
    ax.legend(loc="upper left", ncol=4, fontsize=9)
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
