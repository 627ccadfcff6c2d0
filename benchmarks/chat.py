"""Retrieval chat on the chit-chat corpus: rnnkit's ``ChatModel`` (a recurrent dual encoder,
Lowe et al. 2015, trained with in-batch negatives) against TF-IDF retrieval and a random
pick, by Recall@k of 10 candidates (the true reply among 9 random other replies of the same
set), and a transcript of the model answering five messages.

Data: the registered data set ``chitchat`` (``rnnkit.data.datasets.load("chitchat")``:
``source`` = "previous turn <sep> message", ``target`` = the reply, ``split``; whole
conversations go to train or test). A DEVELOPMENT split is carved out of train, by
conversation too: a conversation's first pair is the one whose source has no ``<sep>`` (the
opening message has no earlier turn), so the training pairs fall into conversations without
any private id, and a conversation goes to dev when the MD5 hash of its first source lies in
the lowest ``DEV_FRACTION`` of the range. The settings were chosen on dev only
(``--dev``; benchmarks/results/chat_history.md); the test split was scored once, after.

One model is trained, on train less dev, and scored on dev and test (``--dev``: dev only).
With ``--rerank PATH`` a model with a ``log_likelihood(sources, targets)`` method (a chat
``Seq2Seq``) reranks the dual encoder's top replies, scored on a seeded subset of
``--rerank-pairs`` pairs of each split next to the dual encoder on the same subset (the
generator scores every one of the 10 candidates of each pair, which is slow). Note: the
chat Seq2Seq of benchmarks/seq2seq.py was trained on pairs of the whole training split, so
its dev rows have seen dev conversations; its test rows are clean.

The transcript is the real ``rnnkit chat MODEL`` command (through typer's test runner) on
the same five messages as docs/seq2seq.md, one session, so each message carries the
earlier turns as context; if the command is not available it falls back to
``ChatModel.reply`` with the same context and says so.

Writes ``benchmarks/out/chat.json``, ``chat.md`` and the model ``chat.rnnkit``; prints the
table. Training time is wall-clock on ``--threads`` torch threads (2 by default).

    python benchmarks/chat.py [--dev] [--quick] [--limit N] [--eval-pairs N] [--epochs E]
                              [--seeds 0,1] [--set key=value ...] [--lexical-weights 0,2,5]
                              [--rerank PATH] [--rerank-pairs N] [--threads N] [--name NAME]

``--quick`` is a smoke run of about a minute (3,000 training pairs, one epoch, 500 scored
pairs per split) and writes ``chat_quick.*`` (``chat_dev_quick.*`` with ``--dev``), so it
never overwrites a full run. The model's score is the network's (``lexical_weight=0``);
``--set lexical_weight=None`` adds a TF-IDF term chosen in ``fit`` on its held-out training
pairs, and the dev Recall@1 of a few fixed weights (``--lexical-weights``) is recorded
beside it; the ``dual-encoder`` row is then the network alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import rnnkit  # noqa: E402
from rnnkit.config_file import parse_value  # noqa: E402
from rnnkit.data.datasets import load  # noqa: E402

OUT = Path(__file__).parent / "out"
SEP = "<sep>"
DEV_FRACTION = 0.1  # of the training conversations, by the hash of their first source
SETTINGS: dict = dict(cell="gru", bidirectional=True, hidden_size=128, embedding_dim=128, vector_size=128,
                      pooling="mean", batch_norm=False, max_context_tokens=60, batch_size=64, epochs=3,
                      lexical_weight=0.0)  # chosen on dev (benchmarks/results/chat_history.md), written
#                      out in full so that a change of ChatModel's defaults does not change the benchmark
QUICK = dict(limit=3000, eval_pairs=500, epochs=1)  # --quick: a minute-long smoke run
MESSAGES = ["Hi! How are you doing today?", "What are your plans for the weekend?",
            "Do you like to read books?", "What is your favorite food?", "Thanks, bye!"]
COLUMNS = ("recall@1", "recall@2", "recall@5")


# -- data ------------------------------------------------------------------------------------

def conversations(sources: list[str], replies: list[str]) -> list[list[int]]:
    """Indices of the pairs, grouped by conversation: a new one starts at each source
    without ``<sep>`` (the corpus's pairs are in conversation order; pair ``i+1``'s source
    ends with pair ``i``'s reply, which the caller may check)."""
    groups: list[list[int]] = []
    for i, source in enumerate(sources):
        if SEP not in source or not groups:
            groups.append([])
        groups[-1].append(i)
    return groups


def in_dev(first_source: str) -> bool:
    digest = hashlib.md5(first_source.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64 < DEV_FRACTION


def splits() -> dict[str, tuple[list[str], list[str]]]:
    """``{"train", "dev", "test"}`` -> ``(messages, replies)``; train and dev by conversation."""
    table = load("chitchat")
    out: dict[str, tuple[list[str], list[str]]] = {"train": ([], []), "dev": ([], [])}
    train = table[table["split"] == "train"]
    sources, replies = train["source"].tolist(), train["target"].tolist()
    for group in conversations(sources, replies):
        part = out["dev" if in_dev(sources[group[0]]) else "train"]
        part[0].extend(sources[i] for i in group)
        part[1].extend(replies[i] for i in group)
    test = table[table["split"] == "test"]
    out["test"] = (test["source"].tolist(), test["target"].tolist())
    return out


def subset(pairs, n: int | None, seed: int):
    """A seeded sample of ``n`` pairs (all of them when ``n`` is None or larger)."""
    if n is None or n >= len(pairs[0]):
        return pairs
    keep = sorted(random.Random(seed).sample(range(len(pairs[0])), n))
    return [pairs[0][i] for i in keep], [pairs[1][i] for i in keep]


# -- measuring -------------------------------------------------------------------------------

def rows(report) -> dict[str, dict]:
    table = report.table.set_index("method") if "method" in report.table.columns else report.table
    return {str(k): {c: round(float(v[c]), 4) for c in (*COLUMNS, "n") if c in v}
            for k, v in table.to_dict(orient="index").items()}


def transcript(model, path: Path) -> dict:
    """The five messages in one ``rnnkit chat`` session, piped (the command then prints one
    reply per message; they are shown after their messages), with the conversation as
    context (the default) and with ``--no-context``; or the Python fallback."""
    texts = [session(path, flags) for flags in ([], ["--no-context"])]
    if all(texts):
        return {"how": "cli", "text": "\n".join(texts)}
    lines, context = ["# python fallback (rnnkit chat failed)"], []
    for message in MESSAGES:
        reply = model.reply(message, context=list(context))
        lines += [f"you> {message}", f"bot> {reply}"]
        context += [message, reply]
    return {"how": "python", "text": "\n".join(lines) + "\n"}


def session(path: Path, flags: list[str]) -> str | None:
    from typer.testing import CliRunner

    from rnnkit.cli.main import app

    piped = "printf '%s\\n' " + " ".join(repr(m) for m in MESSAGES) + f" | rnnkit chat {path.name}"
    run = CliRunner().invoke(app, ["chat", str(path), *flags], input="\n".join(MESSAGES) + "\n")
    answers = [line for line in run.stdout.splitlines() if line.strip()]
    if run.exit_code != 0 or len(answers) != len(MESSAGES):
        print(f"rnnkit chat {' '.join(flags)}: exit {run.exit_code}: {run.stdout.strip()[-200:]}")
        return None
    lines = [f"$ {' '.join([piped, *flags])}"] + [f"{who}> {text}" for pair in zip(MESSAGES, answers)
                                                 for who, text in zip(("you", "bot"), pair)]
    return "\n".join(lines) + "\n"


def replies_in_bank(model, text: str) -> list[bool]:
    bank = set(model.bank_)
    return [line[5:] in bank for line in text.splitlines() if line.startswith("bot> ")]


def one_seed(seed: int, data: dict, settings: dict, args) -> dict:
    train = subset(data["train"], args.limit, seed)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        model = rnnkit.ChatModel(**{**settings, "seed": seed}).fit(*train)
    train_seconds = time.perf_counter() - started
    result = {"seed": seed, "train_pairs": len(train[0]), "bank": len(model.bank_),
              "train_seconds": round(train_seconds, 1), "settings": _plain(model.settings_),
              "epochs_run": len(getattr(getattr(model, "history_", None), "rows", []) or [])}
    if args.lexical_weights:  # for the record: the model keeps the weight its fit chose
        result["lexical_scan"] = scan_lexical(model, subset(data["dev"], args.eval_pairs, 1), args.lexical_weights)
    result["lexical_weight"] = model.lexical_weight_
    for split in ("dev",) if args.dev else ("dev", "test"):
        pairs = subset(data[split], args.eval_pairs, 1)
        started = time.perf_counter()
        result[split] = rows(model.evaluate(*pairs, seed=0))
        result[f"{split}_eval_seconds"] = round(time.perf_counter() - started, 1)
        result[f"{split}_pairs"] = len(pairs[0])
        if args.rerank:
            few = subset(pairs, args.rerank_pairs, 2)
            started = time.perf_counter()
            result[f"{split}_rerank"] = rows(model.evaluate(*few, baselines=(), rerank=args.rerank_model, seed=0))
            result[f"{split}_rerank_seconds"] = round(time.perf_counter() - started, 1)
    result["model"] = model
    return result


def scan_lexical(model, dev, weights: list[float]) -> dict[float, float]:
    """Dev Recall@1 of 10 for each ``lexical_weight`` (it changes no network weight, so one
    fitted model is scored with each); the model's own weight is put back after."""
    scan, kept = {}, model.lexical_weight_
    for w in weights:
        model.lexical_weight_ = w
        scan[w] = rows(model.evaluate(*dev, ks=(1,), baselines=(), seed=0))["rnnkit"]["recall@1"]
    model.lexical_weight_ = kept
    return scan


def _plain(value):
    return json.loads(json.dumps(value, default=str))


def summary(runs: list[dict], split: str) -> dict[str, dict]:
    """Each method's mean over the seeds, with the lowest and highest recall@1."""
    table = {}
    for method in runs[0][split]:
        values = [r[split][method] for r in runs if method in r[split]]
        table[method] = {c: round(float(np.mean([v[c] for v in values])), 4) for c in values[0]}
        table[method]["recall@1_range"] = [min(v["recall@1"] for v in values), max(v["recall@1"] for v in values)]
    return table


# -- output ----------------------------------------------------------------------------------

def markdown(result: dict) -> str:
    first = result["runs"][0]
    lines = ["# Chat benchmark (retrieval)", "", f"machine: {result['machine']}", "",
             f"Trained on {first['train_pairs']} pairs (train less dev), bank of {first['bank']} replies, "
             f"{first['epochs_run']} epochs in {result['train_seconds']} s "
             f"(mean of seeds {result['seeds']}); ChatModel settings: `{result['settings_given'] or 'defaults'}`.", ""]
    if "lexical_scan" in first:
        scan = ", ".join(f"{w:g}: {r:.3f}" for w, r in first["lexical_scan"].items())
        lines += [f"Dev Recall@1 by `lexical_weight`: {scan}; the model's (chosen in fit): "
                  f"{first['lexical_weight']:g}.", ""]
    for split in result["splits"]:
        n = first[f"{split}_pairs"]
        lines += [f"## {split} ({n} pairs, 10 candidates each)", "", "| method | " + " | ".join(COLUMNS) + " |",
                  "|---|" + "---|" * len(COLUMNS)]
        for method, v in result[split].items():
            lines.append(f"| {method} | " + " | ".join(f"{v[c]:.3f}" for c in COLUMNS) + " |")
        ratio = result.get(f"{split}_ratio_to_tfidf")
        if ratio:
            lines += ["", "Recall@1 / TF-IDF's: " + ", ".join(f"{k} {v:.2f}" for k, v in ratio.items())]
        if f"{split}_rerank" in first:
            lines += ["", f"Reranked by `{result['rerank']}` on {result['rerank_pairs']} of those pairs:", "",
                      "| method | " + " | ".join(COLUMNS) + " |", "|---|" + "---|" * len(COLUMNS)]
            for method, v in first[f"{split}_rerank"].items():
                lines.append(f"| {method} | " + " | ".join(f"{v[c]:.3f}" for c in COLUMNS) + " |")
        lines.append("")
    tr = result["transcript"]
    lines += ["## Transcript", "", "```", tr["text"].rstrip(), "```", "",
              f"Every reply from the bank: {all(tr['from_bank'])} ({tr['how']})."]
    return "\n".join(lines) + "\n"


def ratios(table: dict) -> dict[str, float]:
    """Each model row's Recall@1 over TF-IDF's (``rnnkit``; ``dual-encoder``, the network
    alone, when the model adds ``lexical_weight`` times the TF-IDF cosine)."""
    tfidf = table.get("tfidf", {}).get("recall@1")
    if not tfidf:
        return {}
    return {k: round(v["recall@1"] / tfidf, 3) for k, v in table.items() if k not in ("tfidf", "random")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dev", action="store_true", help="score dev only (how the settings were chosen)")
    parser.add_argument("--quick", action="store_true", help="a minute-long smoke run: few pairs, one epoch")
    parser.add_argument("--limit", type=int, default=None, help="a seeded subset of this many training pairs")
    parser.add_argument("--eval-pairs", type=int, default=None, help="a seeded subset of each scored split")
    parser.add_argument("--epochs", type=int, default=None, help="ChatModel epochs (default: its own)")
    parser.add_argument("--seeds", default="0", help="training seeds, comma-separated; tables are their mean")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a ChatModel setting")
    parser.add_argument("--lexical-weights", default="0,2,5,10,20,40", help="lexical_weight values "
                        "scored on dev after training, for the record ('' = none); the model keeps its own")
    parser.add_argument("--rerank", default=None, metavar="PATH", help="a model file with log_likelihood "
                        "(a chat Seq2Seq) that reranks the top replies")
    parser.add_argument("--rerank-pairs", type=int, default=1000, help="pairs per split scored with --rerank")
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1), help="torch threads")
    parser.add_argument("--transcript", default=None, metavar="MODEL", help="only the transcript of a saved "
                        "ChatModel (no training, no scoring); writes OUT/<model name>_transcript.txt")
    parser.add_argument("--name", default=None, help="output name (default chat, chat_dev with --dev; _quick added with --quick)")
    args = parser.parse_args()
    if args.transcript:
        path = Path(args.transcript)
        model = rnnkit.load(path)
        chat = transcript(model, path)
        chat["from_bank"] = replies_in_bank(model, chat["text"])
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / f"{path.stem}_transcript.txt").write_text(chat["text"], encoding="utf-8")
        print(chat["text"] + f"every reply from the bank: {all(chat['from_bank'])} ({chat['how']})")
        return
    settings = dict(SETTINGS)
    for item in args.set:
        key, value = item.split("=", 1)
        settings[key] = parse_value(value)
    if args.quick:
        args.limit = args.limit or QUICK["limit"]
        args.eval_pairs = args.eval_pairs or QUICK["eval_pairs"]
        args.epochs = args.epochs or QUICK["epochs"]
    args.lexical_weights = [float(w) for w in args.lexical_weights.split(",") if w.strip()]
    if args.epochs is not None:
        settings["epochs"] = args.epochs
    args.rerank_model = rnnkit.load(args.rerank) if args.rerank else None
    torch.set_num_threads(args.threads)
    OUT.mkdir(parents=True, exist_ok=True)
    data = splits()
    seeds = [int(s) for s in args.seeds.split(",")]
    started = time.perf_counter()
    runs = [one_seed(seed, data, settings, args) for seed in seeds]
    model = runs[0].pop("model")
    for r in runs[1:]:
        r.pop("model")
    name = args.name or (("chat_dev" if args.dev else "chat") + ("_quick" if args.quick else ""))
    path = model.save(OUT / f"{name}.rnnkit")
    chat = transcript(model, Path(path))
    chat["from_bank"] = replies_in_bank(model, chat["text"])
    result = {"machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, "
                         f"torch {torch.__version__}",
              "seeds": seeds, "settings_given": settings, "data": {k: len(v[0]) for k, v in data.items()},
              "splits": ["dev"] if args.dev else ["dev", "test"], "limit": args.limit,
              "eval_pairs": args.eval_pairs, "rerank": args.rerank, "rerank_pairs": args.rerank_pairs,
              "train_seconds": round(float(np.mean([r["train_seconds"] for r in runs])), 1), "runs": runs,
              "transcript": chat}
    for split in result["splits"]:
        result[split] = summary(runs, split)
        result[f"{split}_ratio_to_tfidf"] = ratios(result[split])
    result["total_seconds"] = round(time.perf_counter() - started, 1)
    (OUT / f"{name}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    text = markdown(result)
    (OUT / f"{name}.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
