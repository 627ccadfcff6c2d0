"""Series classification on three UEA/UCR archive sets that ship with sktime: rnnkit's
``SequenceClassifier`` (default settings) and the baselines, on each set's own test split.

* JapaneseVowels: 12 channels, 7-29 steps (variable), 9 speakers, 270 train / 370 test;
* BasicMotions: 6 channels x 100 steps, 4 activities, 40 / 40;
* ItalyPowerDemand: 1 channel x 24 steps, 2 seasons, 67 / 1029.

Baselines (see ``rnnkit.tasks.classify_series.baselines``): nearest centroid and 1-NN
Euclidean on series resampled to a common length, 1-NN DTW at each series' own length.
The classifier is fitted with ``--seeds`` seeds; the table shows the mean accuracy with
the lowest and highest; the baselines are deterministic. Early stopping uses a stratified
15% of the *training* split only; nothing of the test split reaches training or scaling.

Writes ``benchmarks/out/classify_series.json`` and prints a table.

    python benchmarks/classify_series.py [--seeds 3] [--only japanese-vowels,basic-motions]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

# Two OpenMP threads that spin while they wait starve each other on a busy 2-core machine
# (a step went from 6 ms to 3 s here); passive waiting costs nothing when the cores are free.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import rnnkit  # noqa: E402
from rnnkit.data.panels import PANELS, load_panel  # noqa: E402
from rnnkit.tasks.classify_series import SequenceClassifier  # noqa: E402

OUT = Path(__file__).parent / "out"


def run_set(name: str, seeds: int) -> dict:
    X, y = load_panel(name, "train")
    X_test, y_test = load_panel(name, "test")
    runs, baselines = [], None
    for seed in range(seeds):
        start = time.perf_counter()
        clf = SequenceClassifier(seed=seed).fit(X, y)
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        report = clf.evaluate(X_test, y_test, baselines=() if baselines else
                              ("nearest_centroid", "1nn_euclidean", "1nn_dtw"))
        table = report.table
        if baselines is None:
            baselines = {m: table.loc[m].to_dict() for m in table.index if m != "rnnkit"}
            baselines["seconds"] = time.perf_counter() - start
        runs.append({"seed": seed, **table.loc["rnnkit"].to_dict(), "fit_seconds": fit_seconds,
                     "epochs": len(clf.history_.rows), "best_epoch": clf.history_.best_epoch})
        print(f"  {name} seed {seed}: accuracy {runs[-1]['accuracy']:.3f}, macro-F1 "
              f"{runs[-1]['macro_f1']:.3f}, {runs[-1]['epochs']} epochs, {fit_seconds:.1f} s", flush=True)
    acc = np.array([r["accuracy"] for r in runs])
    f1 = np.array([r["macro_f1"] for r in runs])
    return {"train": len(X), "test": len(X_test), "channels": X[0].shape[1],
            "lengths": [int(min(map(len, X + X_test))), int(max(map(len, X + X_test)))],
            "classes": len(set(y)), "rnnkit_runs": runs,
            "rnnkit": {"accuracy": float(acc.mean()), "accuracy_min": float(acc.min()),
                       "accuracy_max": float(acc.max()), "macro_f1": float(f1.mean())},
            "baselines": baselines}


def print_table(results: dict) -> None:
    print("\n| data set | model | test accuracy | macro-F1 |")
    print("|---|---|---|---|")
    for name, r in results.items():
        s = r["rnnkit"]
        spread = f" ({s['accuracy_min']:.3f}-{s['accuracy_max']:.3f})" if len(r["rnnkit_runs"]) > 1 else ""
        print(f"| {name} | **rnnkit** (biLSTM) | **{s['accuracy']:.3f}**{spread} | {s['macro_f1']:.3f} |")
        for model, m in r["baselines"].items():
            if model != "seconds":
                print(f"| {name} | {model} | {m['accuracy']:.3f} | {m['macro_f1']:.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3, help="fits of the classifier per set")
    parser.add_argument("--only", default=",".join(PANELS), help="comma-separated set names")
    args = parser.parse_args()
    torch.set_num_threads(2)
    OUT.mkdir(exist_ok=True)
    results = {}
    for name in args.only.split(","):
        results[name] = run_set(name, args.seeds)
    settings = SequenceClassifier().get_params()
    meta = {"seeds": args.seeds, "classifier_settings": settings, "torch": torch.__version__,
            "rnnkit": rnnkit.__version__, "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
            "threads": torch.get_num_threads()}
    (OUT / "classify_series.json").write_text(json.dumps({"settings": meta, "results": results}, indent=1))
    print_table(results)
    print(f"\nwrote {OUT / 'classify_series.json'}")


if __name__ == "__main__":
    main()
