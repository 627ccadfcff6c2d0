"""Decode-time probes on a translation model, scored on the dev split: what docs/seq2seq.md
reports about logit adjustment, the lexical bias's weight, ``<unk>`` replacement and
repeated n-grams.

None but the last is a setting of ``Seq2Seq``; each changes one thing in how a fitted model
decodes, through its public decoding hooks (``Seq2Seq.step_fn``, ``Seq2Seq.unknown_position``,
the network's ``step``) or its decoding settings (``config.decoding``), and prints greedy and
beam BLEU / chrF (sacreBLEU) next to the unchanged model:

* ``logit-adjust TAU``: rank by ``log p(y|x) - tau * log pi(y)``, ``pi`` the add-one unigram
  frequency of the training targets (post-hoc logit adjustment, Menon et al. 2021);
* ``lexical-bias LAMBDA:EPS``: the lexical bias term ``log(p_lex + 1e-3)`` becomes
  ``lambda * log(p_lex + eps)`` (the model must have ``lexicon_top_k > 0``);
* ``unk-distinct``: an output ``<unk>`` takes the most attended source word that no earlier
  ``<unk>`` of the sentence took (the model's rule may take the same word twice);
* ``no-repeat N``: the model's own ``no_repeat_ngram_size`` decoding setting set to ``N`` (no
  n-gram twice in an output).

The model is the dev run's (``python benchmarks/seq2seq.py --dev --skip-chat`` saves
``benchmarks/out/seq2seq_dev.rnnkit``): it never saw the dev pairs. About a minute per greedy
setting and a few more with ``--beam 5`` on one thread.

    python benchmarks/seq2seq_probes.py logit-adjust 0.1 0.2 0.35 [--beam 5] [--model PATH]
    python benchmarks/seq2seq_probes.py lexical-bias 1.5:1e-3 1:1e-4
    python benchmarks/seq2seq_probes.py unk-distinct --beam 5
    python benchmarks/seq2seq_probes.py no-repeat 2 3 --beam 5
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import warnings
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import sacrebleu  # noqa: E402
import torch  # noqa: E402

import rnnkit  # noqa: E402
from rnnkit.data.text.vocab import EOS_ID  # noqa: E402
from rnnkit.tasks.seq2seq.datasets import ding_pairs  # noqa: E402
from rnnkit.tasks.seq2seq.features import encode  # noqa: E402

OUT = Path(__file__).parent / "out"
DEV_FRACTION = 0.065  # as benchmarks/seq2seq.py --dev


def scores(mt, sources, references, beam: int) -> str:
    """Greedy (and beam) BLEU / chrF and the greedy output's characters."""
    cells = []
    for width in ([1, beam] if beam > 1 else [1]):
        out = mt.translate(sources, beam=width)
        cells.append(f"{'greedy' if width == 1 else f'beam {width}'} "
                     f"{sacrebleu.corpus_bleu(out, [references]).score:.2f} / "
                     f"{sacrebleu.corpus_chrf(out, [references]).score:.2f}")
        if width == 1:
            chars = sum(len(o.replace(' ', '')) for o in out)
    return ", ".join(cells) + f" (greedy output: {chars:,} characters)"


def unigram_log_prior(mt, targets: list[str]) -> torch.Tensor:
    """``log pi(y)`` over the target vocabulary: add-one counts of the training targets' ids,
    ``<eos>`` once per target."""
    counts = np.ones(len(mt.target_encoder_.vocab))
    for ids in encode(mt.target_encoder_, targets, "seq2seq_probes"):
        np.add.at(counts, ids, 1)
    counts[EOS_ID] += len(targets)
    return torch.tensor(np.log(counts / counts.sum()), dtype=torch.float32)


def logit_adjusted(mt, log_prior: torch.Tensor, tau: float):
    real = type(mt).step_fn

    def step_fn(chat: bool = False):
        step = real(mt, chat)

        def adjusted(prev, state):
            logp, state, weights = step(prev, state)
            return torch.log_softmax(logp - tau * log_prior.to(logp.device), -1), state, weights
        return adjusted
    return step_fn


def lexical_bias(mt, lam: float, eps: float):
    """``model.step`` with the lexical bias recomputed as ``lam * log(p_lex + eps)``."""
    model = mt.model_
    real = type(model).step

    def step(prev, state):
        plain = dataclasses.replace(state, lex_index=None, lex_prob=None)
        logits, after, a = real(model, prev, plain)
        after = dataclasses.replace(after, lex_index=state.lex_index, lex_prob=state.lex_prob)
        p_lex = model.lexicon_probability(a[:, None], state)[:, 0]  # (N, V_y)
        return logits + lam * torch.log(p_lex + eps), after, a
    return step


def distinct_source(weights: np.ndarray, is_word: np.ndarray, taken: list[int]) -> int | None:
    """:func:`rnnkit.tasks.seq2seq.unknowns.most_attended` that prefers a word no earlier
    ``<unk>`` took."""
    fresh = is_word.copy()
    fresh[[i for i in taken if i < len(fresh)]] = False
    pick = fresh if fresh.any() else is_word
    return int(np.argmax(np.where(pick, weights, -np.inf))) if pick.any() else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("probe", choices=["logit-adjust", "lexical-bias", "unk-distinct", "no-repeat"])
    parser.add_argument("values", nargs="*", help="tau values, lambda:eps pairs or n-gram sizes")
    parser.add_argument("--beam", type=int, default=1, help="also score beam search of this width")
    parser.add_argument("--model", type=Path, default=OUT / "seq2seq_dev.rnnkit")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--unknown-source", choices=["attention", "unknown_first"], default="attention",
                        help="which source word fills an output <unk> (the numbers in docs/seq2seq.md: "
                             "'attention', the rule before unknown_first became the default)")
    args = parser.parse_args()
    if not args.model.exists():
        parser.error(f"{args.model} does not exist: run python benchmarks/seq2seq.py --dev --skip-chat "
                     "first, or pass --model")
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore", UserWarning)  # texts of unknown words only: counted, not shown
    mt = rnnkit.load(args.model)
    mt.config.decoding.unknown_source = args.unknown_source
    sources, references = ding_pairs("dev", dev_fraction=DEV_FRACTION)
    print(f"unchanged: {scores(mt, sources, references, args.beam)}", flush=True)
    if args.probe == "logit-adjust":
        log_prior = unigram_log_prior(mt, ding_pairs("train", dev_fraction=DEV_FRACTION)[1])
        for tau in map(float, args.values):
            mt.step_fn = logit_adjusted(mt, log_prior, tau)
            print(f"tau={tau:g}: {scores(mt, sources, references, args.beam)}", flush=True)
    elif args.probe == "lexical-bias":
        if not mt.config.lexicon_top_k:
            parser.error("the model has no lexicon (lexicon_top_k=0)")
        for pair in args.values:
            lam, eps = map(float, pair.split(":"))
            mt.model_.step = lexical_bias(mt, lam, eps)
            print(f"lambda={lam:g} eps={eps:g}: {scores(mt, sources, references, args.beam)}", flush=True)
    elif args.probe == "no-repeat":
        for n in map(int, args.values):
            mt.config.decoding.no_repeat_ngram_size = n
            print(f"no_repeat_ngram_size={n}: {scores(mt, sources, references, args.beam)}", flush=True)
    else:
        mt.unknown_position = lambda weights, is_word, unknown, taken: distinct_source(weights, is_word, taken)
        print(f"distinct <unk> sources: {scores(mt, sources, references, args.beam)}", flush=True)


if __name__ == "__main__":
    main()
