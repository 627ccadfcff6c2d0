"""Sequence to sequence on real data: German->English translation on the Ding dictionary's
whole-sentence pairs, and chat on the chit-chat corpus.

Translation. Data: :func:`rnnkit.tasks.seq2seq.datasets.ding_pairs` (Debian ``trans-de-en``;
cleaning and the split are documented there): about 16.6k training and 1.4k test pairs, no
German or English sentence in both splits. A word-level ``Seq2Seq`` (bidirectional LSTM
encoder, LSTM decoder of width 256 with Luong attention and input feeding, the decoder biased
by an IBM-1 lexicon of the training pairs, ``lexicon_top_k=8``, and with Nguyen & Chiang's
lexical model, ``lexical_model=True``, and a coverage-aware attention, ``coverage=True``) is
trained with dropout 0.3, word dropout 0.1, label smoothing 0.1 and the coverage loss
(``coverage_loss=1.0``), early stopping on 5% of the training pairs; the test
set is scored with sacreBLEU (corpus BLEU, 13a tokenisation) and chrF for greedy decoding,
beam search (width 5, hypotheses ranked by mean log-probability per token:
``length_penalty="length"``, alpha 1; both decodings push each source word's lexicon
translation until it is written, ``lexicon_bonus=0.25``, fill an output ``<unk>`` from the
most attended unknown source word, ``unknown_source="unknown_first"``, and look a German word
the dictionary lacks up by its stem or compound parts, ``decompound=True``; all of these are
decoding settings, ``Seq2Seq(decoding={...})``) and the
word-by-word IBM-Model-1 dictionary baseline learned from the same training pairs. An attention heat-map of one test
sentence is written too.

The settings were chosen on a development split, never on test: ``--dev`` trains on the
training pairs less a dev set (the groups whose hash lies in [0.08, 0.145), ~1.1k pairs, no
sentence shared with the rest) and scores on that dev set instead of the test set; it saves
that model as ``seq2seq_dev.rnnkit`` for ``benchmarks/seq2seq_probes.py``.

Chat. Data: :func:`rnnkit.tasks.seq2seq.datasets.chitchat_pairs` (previous turn ``<sep>``
message -> reply; split by conversation). For the CPU time budget only pairs whose source
has at most ``chat_max_source`` words and whose reply has at most ``chat_max_reply`` words
are used, and a seeded subset of ``chat_train`` of them is trained on (said in the output).
The held-out replies' perplexity (per word, ``<eos>`` included) is measured on a seeded
subset of ``chat_test`` test pairs (same length filter), next to a unigram baseline (the
training replies' word frequencies, add-one smoothed, same vocabulary and ``<unk>``). A short
``rnnkit chat`` session (the real command, through typer's test runner) is recorded.

Writes ``benchmarks/out/seq2seq.json`` and ``.md`` (+ ``seq2seq_attention.png``, the two
model files) and prints them. About 25–35 minutes on two shared CPU cores with the defaults.

    python benchmarks/seq2seq.py [--set key=value ...] [--skip-chat] [--skip-translation] [--dev] [--threads N]

``--set mt.hidden_size=512`` changes a setting, ``--set mt.decoding.beam=8`` a decoding setting.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import platform
import random
import time
import warnings
from collections import Counter
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

import rnnkit  # noqa: E402
from rnnkit.config_file import parse_value  # noqa: E402
from rnnkit.tasks.seq2seq.datasets import chitchat_pairs, ding_entries, ding_pairs  # noqa: E402

OUT = Path(__file__).parent / "out"
MT = dict(tokenizer="word", cell="lstm", attention="luong", embedding_dim=128, hidden_size=256,
          dropout=0.3, word_dropout=0.1, label_smoothing=0.1, lexicon_top_k=8, lexical_model=True,
          coverage=True, coverage_loss=1.0, min_freq=2, max_vocab=20000, batch_size=32, epochs=12, lr=2e-3,
          patience=2, val_fraction=0.05, seed=0, progress="plain",
          decoding=dict(beam=5, length_penalty="length", alpha=1.0, lexicon_bonus=0.25,
                        unknown_source="unknown_first", decompound=True))
DEV_FRACTION = 0.065  # --dev: ding_pairs' dev split, the groups hashed into [0.08, 0.145)
CHAT = dict(tokenizer="word", cell="gru", attention="luong", embedding_dim=96, hidden_size=192,
            dropout=0.1, min_freq=3, max_vocab=6000, batch_size=64, epochs=2, lr=3e-3, patience=1,
            val_fraction=0.03, lowercase_target=True, max_source_length=45, max_target_length=20,
            seed=0, progress="plain")
DATA = dict(chat_train=20000, chat_test=2000, chat_max_source=40, chat_max_reply=20,
            mt_entries=False, mt_entry_words=4)  # mt_entries: also train on ding_entries(known=train)
MESSAGES = ["Hi! How are you doing today?", "What are your plans for the weekend?",
            "Do you like to read books?", "What is your favorite food?", "Thanks, bye!"]
EXAMPLES = ["Ich bin müde.", "Wie spät ist es?", "Das Wetter ist heute schön.",
            "Er hat das Buch nicht gelesen."]


def translation(settings: dict, data: dict, dev: bool = False) -> dict:
    if dev:
        train, test = ding_pairs("train", dev_fraction=DEV_FRACTION), ding_pairs("dev", dev_fraction=DEV_FRACTION)
    else:
        train, test = ding_pairs("train"), ding_pairs("test")
    entries = ding_entries("train", dev_fraction=DEV_FRACTION if dev else 0.0, max_words=data["mt_entry_words"],
                           known=train) if data["mt_entries"] else ([], [])
    started = time.perf_counter()
    mt = rnnkit.Seq2Seq(**settings).fit(train[0] + entries[0], train[1] + entries[1])
    train_seconds = time.perf_counter() - started
    started = time.perf_counter()
    beam = mt.config.decoding_settings.beam
    report = mt.evaluate(*test, beam=beam)
    eval_seconds = time.perf_counter() - started
    sentence = test[0][3]
    if dev:  # the model that benchmarks/seq2seq_probes.py probes
        mt.save(OUT / "seq2seq_dev.rnnkit")
    else:
        mt.plot_attention(sentence, OUT / "seq2seq_attention.png", beam=beam)
        mt.save(OUT / "seq2seq_de_en.rnnkit")
    rows = report.table.round(2).to_dict(orient="index")
    samples = [{"source": s, "reference": r, **{k: v[i] for k, v in report.outputs.items()}}
               for i, (s, r) in enumerate(zip(*test)) if i < 8]
    return {"settings": settings, "scored_on": "dev" if dev else "test",
            "train_pairs": len(train[0]), "test_pairs": len(test[0]), "dictionary_entries": len(entries[0]),
            "vocab": {"source": len(mt.source_encoder_.vocab), "target": len(mt.target_encoder_.vocab)},
            "epochs_run": len(mt.history_.rows), "history": mt.history_.rows,
            "train_seconds": round(train_seconds, 1), "eval_seconds": round(eval_seconds, 1),
            "table": rows, "samples": samples, "attention_sentence": sentence,
            "examples": dict(zip(EXAMPLES, mt.translate(EXAMPLES, beam=beam)))}


def _short(pairs, max_source: int, max_reply: int, n: int, seed: int):
    kept = [(s, r) for s, r in zip(*pairs) if len(s.split()) <= max_source and len(r.split()) <= max_reply]
    random.Random(seed).shuffle(kept)
    return [s for s, _ in kept[:n]], [r for _, r in kept[:n]], len(kept)


def unigram_perplexity(mt, train_replies, test_replies) -> float:
    """Add-one unigram over the chat model's target vocabulary (``<eos>`` included)."""
    from rnnkit.tasks.seq2seq.features import tokens

    enc = mt.target_encoder_
    counts = Counter()
    for t in tokens(enc, train_replies, "unigram"):
        counts.update(enc.vocab.encode(t) + [3])
    V, total = len(enc.vocab), sum(counts.values())
    nll, n = 0.0, 0
    for t in tokens(enc, test_replies, "unigram"):
        for i in enc.vocab.encode(t[: mt.config.max_target_length]) + [3]:
            nll -= math.log((counts[i] + 1) / (total + V))
            n += 1
    return math.exp(nll / n)


def chat(settings: dict, data: dict) -> dict:
    import typer
    from typer.testing import CliRunner

    from rnnkit.cli import translate as translate_cmd

    src, rep, pool = _short(chitchat_pairs("train"), data["chat_max_source"], data["chat_max_reply"],
                            data["chat_train"], 0)
    tsrc, trep, tpool = _short(chitchat_pairs("test"), data["chat_max_source"], data["chat_max_reply"],
                               data["chat_test"], 1)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few sources are longer than max_source_length
        bot = rnnkit.Seq2Seq(**settings).fit(src, rep, dictionary=False)
        train_seconds = time.perf_counter() - started
        ppl = bot.perplexity(tsrc, trep)
        unigram = unigram_perplexity(bot, rep, trep)
    path = bot.save(OUT / "seq2seq_chat.rnnkit")
    app = typer.Typer()
    translate_cmd.register(app)
    args = ["chat", str(path), "--temperature", "0.7", "--top-p", "0.9", "--seed", "0"]
    session = CliRunner().invoke(app, args, input="\n".join(MESSAGES + ["/quit"]) + "\n")
    transcript = f"$ rnnkit chat {path.name} --temperature 0.7 --top-p 0.9 --seed 0\n" + session.stdout
    (OUT / "seq2seq_chat_transcript.txt").write_text(transcript, encoding="utf-8")
    return {"settings": settings, "data": data, "train_pairs": len(src), "eligible_train_pairs": pool,
            "test_pairs": len(tsrc), "eligible_test_pairs": tpool,
            "vocab": {"source": len(bot.source_encoder_.vocab), "target": len(bot.target_encoder_.vocab)},
            "epochs_run": len(bot.history_.rows), "history": bot.history_.rows,
            "train_seconds": round(train_seconds, 1), "test_perplexity": round(ppl, 2),
            "unigram_perplexity": round(unigram, 2), "transcript": transcript}


def markdown(result: dict) -> str:
    lines = ["# Seq2Seq benchmark", "", f"machine: {result['machine']}", ""]
    mt = result.get("translation")
    if mt:
        scored = mt.get("scored_on", "test")
        n = mt.get("dictionary_entries", 0)
        entries = f" + {n} Ding word/phrase entries (network and baseline)" if n else ""
        lines += ["## German -> English (Ding whole-sentence pairs)", "",
                  f"{mt['train_pairs']} training / {mt['test_pairs']} {scored} pairs{entries}; vocabularies "
                  f"{mt['vocab']['source']} (de) / {mt['vocab']['target']} (en); {mt['epochs_run']} "
                  f"epochs in {mt['train_seconds']} s; decoding + scoring {mt['eval_seconds']} s.", "",
                  "| system | BLEU | chrF |", "|---|---|---|"]
        lines += [f"| {k} | {v['bleu']:.2f} | {v['chrf']:.2f} |" for k, v in mt["table"].items()]
        beam = mt["settings"].get("decoding", {}).get("beam", 5)
        lines += ["", f"Examples (beam {beam}):", ""] + [f"- {k} -> {v}" for k, v in mt["examples"].items()]
        lines += ["", f"{scored.capitalize()} samples:", ""]
        for s in mt["samples"]:
            lines += [f"- de: {s['source']}", f"  - reference: {s['reference']}"] + \
                     [f"  - {k}: {v}" for k, v in s.items() if k not in ("source", "reference")]
    ch = result.get("chat")
    if ch:
        lines += ["", "## Chat (chit-chat corpus)", "",
                  f"Trained on {ch['train_pairs']} of {ch['eligible_train_pairs']} eligible training "
                  f"pairs (source <= {ch['data']['chat_max_source']} words, reply <= "
                  f"{ch['data']['chat_max_reply']} words), {ch['epochs_run']} epochs in "
                  f"{ch['train_seconds']} s.", "",
                  "| model | held-out reply perplexity (per word) |", "|---|---|",
                  f"| rnnkit Seq2Seq | {ch['test_perplexity']:.2f} |",
                  f"| unigram (add-one) | {ch['unigram_perplexity']:.2f} |", "",
                  f"({ch['test_pairs']} held-out pairs of {ch['eligible_test_pairs']} eligible.)", "",
                  "```", ch["transcript"].rstrip(), "```"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="mt.KEY=V, chat.KEY=V or data.KEY=V")
    parser.add_argument("--skip-chat", action="store_true")
    parser.add_argument("--skip-translation", action="store_true")
    parser.add_argument("--dev", action="store_true",
                        help="translation: train without the dev set and score on it, not on test "
                             "(how the settings were chosen); writes seq2seq_dev.{json,md}")
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1), help="torch threads")
    args = parser.parse_args()
    groups = {"mt": copy.deepcopy(MT), "chat": dict(CHAT), "data": dict(DATA)}
    for item in args.set:
        key, value = item.split("=", 1)
        group, name = key.split(".", 1)
        table = groups[group]
        if name.startswith("decoding."):  # mt.decoding.beam=8
            table = table.setdefault("decoding", {})
            name = name.split(".", 1)[1]
        table[name] = parse_value(value)
    torch.set_num_threads(args.threads)
    OUT.mkdir(parents=True, exist_ok=True)
    result = {"machine": f"{platform.processor() or platform.machine()}, "
                         f"{torch.get_num_threads()} threads, torch {torch.__version__}"}
    started = time.perf_counter()
    if not args.skip_translation:
        result["translation"] = translation(groups["mt"], groups["data"], dev=args.dev)
        print(markdown(result), flush=True)
    if not args.skip_chat:
        result["chat"] = chat(groups["chat"], groups["data"])
    result["total_seconds"] = round(time.perf_counter() - started, 1)
    name = "seq2seq_dev" if args.dev else "seq2seq"
    (OUT / f"{name}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    text = markdown(result)
    (OUT / f"{name}.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
