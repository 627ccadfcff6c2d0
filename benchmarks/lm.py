"""Language modelling on the Debian fortunes: rnnkit's character ``LanguageModel`` against a
smoothed character n-gram (interpolated Kneser-Ney), in bits per character.

Data: every fortune file in ``/usr/share/games/fortunes`` (``apt-get install fortunes``),
15,217 records, 2.5 M characters; a seeded shuffle of the *records* puts 90% in training
and 10% in the test set. Early stopping uses a seeded 5% of the training records only;
nothing of the test set reaches training, the vocabulary or the n-gram counts. Both models
code the same stream (each record followed by an end symbol) and are divided by the same
number of characters. The n-gram rows are order 5 (the baseline ``evaluate`` reports) and
order 7 (a stronger n-gram, shown for context).

Writes ``benchmarks/out/lm.json`` and ``.md`` (the table and a few generated samples) and
prints them. About 12-13 minutes on two (shared) CPU cores with the defaults.

    python benchmarks/lm.py [--set key=value ...]
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

import torch  # noqa: E402

import rnnkit  # noqa: E402
from rnnkit.config_file import parse_value  # noqa: E402
from rnnkit.tasks.lm.baselines import KneserNeyCharModel  # noqa: E402
from rnnkit.tasks.lm.datasets import fortunes  # noqa: E402

OUT = Path(__file__).parent / "out"
SETTINGS = dict(tokenizer="char", cell="lstm", embedding_dim=64, hidden_size=256, num_layers=1,
                dropout=0.1, bptt=50, batch_size=64, epochs=12, lr=4e-3, patience=2,
                val_fraction=0.05, seed=0, progress="plain")
PROMPTS = ["The ", "Q: Why did the ", "Life is ", "It is a truth universally acknowledged"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()
    settings = dict(SETTINGS)
    for item in args.set:
        key, value = item.split("=", 1)
        settings[key] = parse_value(value)
    torch.set_num_threads(min(2, os.cpu_count() or 1))
    train, test = fortunes("train", 0.1, seed=0), fortunes("test", 0.1, seed=0)

    started = time.perf_counter()
    lm = rnnkit.LanguageModel(**settings).fit(train)
    train_seconds = time.perf_counter() - started
    report = lm.evaluate(test)  # rnnkit and the order-5 Kneser-Ney n-gram
    table = report.table
    seven = KneserNeyCharModel(7).fit(train)
    bits, n = seven.total_bits(test)
    table.loc[seven.name] = [bits / n, 2.0 ** (bits / n), "char", n, n]
    samples = [{"prompt": p, "temperature": 0.8, "top_p": 0.95, "seed": i,
                "text": lm.generate(p, max_tokens=160, temperature=0.8, top_p=0.95, seed=i)}
               for i, p in enumerate(PROMPTS)]
    result = {
        "data": {"train_records": len(train), "test_records": len(test),
                 "train_characters": sum(map(len, train)), "test_characters": sum(map(len, test)),
                 "split": "seeded shuffle of records (seed 0), 90/10"},
        "settings": settings, "train_seconds": round(train_seconds, 1),
        "epochs_run": len(lm.history_.rows), "best_epoch": lm.history_.best_epoch,
        "history": [{k: r[k] for k in ("epoch", "train_loss", "val_bpc", "seconds")}
                    for r in lm.history_.rows],
        "table": json.loads(table.to_json(orient="index")),
        "samples": samples,
        "machine": f"{platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}",
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "lm.json").write_text(json.dumps(result, indent=2))
    (OUT / "lm.md").write_text(markdown(result, table))
    print(markdown(result, table))


def markdown(result: dict, table) -> str:
    lines = ["# Language model on the fortunes (held-out 10% of records)", "",
             "| model | bits/char | perplexity | per | predictions |", "|---|---:|---:|---|---:|"]
    for name, row in table.iterrows():
        lines.append(f"| {name} | {row.bits_per_char:.3f} | {row.perplexity:.2f} | {row.token} "
                     f"| {int(row.predictions):,} |")
    d = result["data"]
    lines += ["", f"{d['train_records']:,} training records ({d['train_characters']:,} characters), "
              f"{d['test_records']:,} test records ({d['test_characters']:,} characters); "
              f"rnnkit trained {result['train_seconds']:.0f} s, {result['epochs_run']} epochs "
              f"(best {result['best_epoch']}) on {result['machine']}.", "",
              "## Samples (temperature 0.8, top-p 0.95)", ""]
    for s in result["samples"]:
        lines += [f"**{s['prompt']!r}** (seed {s['seed']})", "", "```",
                  s["prompt"] + s["text"], "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
