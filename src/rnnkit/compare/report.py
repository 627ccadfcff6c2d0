"""The comparison as a table, a one-line recommendation, a plot and files.

The recommendation rule (measured, not asserted): among the runs whose metric is within
``tolerance`` (default 2%, relative) of the best run's, recommend the one that trained
fastest (ties: fewer parameters). If that is the best run itself it says so; otherwise it
says how close it is and what share of the best run's training time it took. When the
task's best baseline beats the recommended run, the line says that too.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from rnnkit.compare.recipes import METRICS

COLUMNS = ("cell", "hidden_size", "baseline", "train_s", "latency_ms", "params", "peak_mem_mb")


def table(rows: list[dict], task: str) -> pd.DataFrame:
    """One row per run, then one for the best baseline (its metric only)."""
    metric = METRICS[task].name
    frame = pd.DataFrame(rows).set_index("run")
    order = [metric, "beats_baseline", *COLUMNS]
    better = (frame[metric] < frame[f"baseline_{metric}"]) if METRICS[task].lower_is_better \
        else (frame[metric] > frame[f"baseline_{metric}"])
    frame["beats_baseline"] = better.map({True: "yes", False: "no"})
    extras = [c for c in frame.columns if c not in order and not c.startswith("baseline_")]
    out = frame[order + extras]
    base_name = rows[0]["baseline"]
    base = pd.DataFrame([{metric: rows[0][f"baseline_{metric}"]}], index=[f"baseline: {base_name}"])
    out = pd.concat([out, base])
    for col in ("hidden_size", "params"):  # integers, "-" on the baseline row
        out[col] = [v if isinstance(v, str) else "-" if pd.isna(v) else int(v) for v in out[col]]
    out.index.name = "run"
    return out


def _relative_gap(value: float, best: float, lower_is_better: bool) -> float:
    """How much worse ``value`` is than ``best``, as a share of ``best`` (0 = as good)."""
    if best == 0:
        return 0.0 if value == best else math.inf
    gap = (value - best) / abs(best)
    return gap if lower_is_better else -gap


def recommend(rows: list[dict], task: str, tolerance: float = 0.02) -> str:
    """One line: which run to use, from the numbers (see the module docstring for the rule)."""
    spec = METRICS[task]
    metric, lower = spec.name, spec.lower_is_better
    valid = [r for r in rows if not math.isnan(r[metric])]
    if not valid:
        return "no recommendation: no run produced a finite metric"
    best = (min if lower else max)(valid, key=lambda r: r[metric])
    close = [r for r in valid if _relative_gap(r[metric], best[metric], lower) <= tolerance]
    pick = min(close, key=lambda r: (r["train_s"], r["params"]))
    if pick is best:
        line = (f"{pick['run']}: best {metric} ({pick[metric]:.3f}) and the fastest training "
                f"among runs within {tolerance:.0%} of it")
    else:
        gap = _relative_gap(pick[metric], best[metric], lower)
        ratio = pick["train_s"] / best["train_s"] if best["train_s"] > 0 else float("nan")
        line = (f"{pick['run']}: within {gap:.1%} of the best {metric} ({best['run']}, "
                f"{best[metric]:.3f}) at {ratio:.2f}x its training time")
    base = pick[f"baseline_{metric}"]
    if not math.isnan(base) and (base < pick[metric] if lower else base > pick[metric]):
        line += f"; but the baseline {pick['baseline']} scores better ({metric} {base:.3f})"
    return line


def plot(rows: list[dict], task: str, path: Path) -> Path:
    """Metric against training time, one labelled point per run, the baseline dashed."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metric = METRICS[task].name
    fig, ax = plt.subplots(figsize=(6, 4))
    for r in rows:
        ax.scatter(r["train_s"], r[metric])
        ax.annotate(r["run"], (r["train_s"], r[metric]), textcoords="offset points", xytext=(5, 5))
    base = rows[0][f"baseline_{metric}"]
    if not math.isnan(base):
        ax.axhline(base, linestyle="--", color="grey", label=f"baseline: {rows[0]['baseline']}")
        ax.legend()
    arrow = "lower is better" if METRICS[task].lower_is_better else "higher is better"
    ax.set(xlabel="training time (s)", ylabel=f"{metric} ({arrow})", title=f"{task}: {metric} vs training time")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def markdown(frame: pd.DataFrame) -> str:
    """The table as GitHub markdown (no ``tabulate`` needed)."""
    def cell(v):
        if isinstance(v, float):
            return "-" if math.isnan(v) else f"{v:.3f}"
        return "-" if v is None else str(v)

    head = ["run", *map(str, frame.columns)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, row in frame.iterrows():
        lines.append("| " + " | ".join([str(name), *(cell(v) for v in row.tolist())]) + " |")
    return "\n".join(lines)


def write(rows: list[dict], task: str, out: Path, tolerance: float = 0.02) -> dict:
    """``compare.json``, ``compare.md`` and ``compare.png`` in ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    frame, line = table(rows, task), recommend(rows, task, tolerance)
    clean = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in rows]
    (out / "compare.json").write_text(json.dumps({"task": task, "runs": clean, "recommendation": line}, indent=2))
    (out / "compare.md").write_text(markdown(frame) + f"\n\nRecommendation: {line}\n")
    return {"table": frame, "recommendation": line, "json": out / "compare.json",
            "markdown": out / "compare.md", "plot": plot(rows, task, out / "compare.png")}
