"""A translation lexicon over token ids, for the decoder's lexical bias.

IBM Model 1 (Brown et al. 1993) learned on the training pairs *as the network reads them*
(source ids ``x``, target ids ``y``, any tokenizer): translation probabilities
``t(e | f)`` of a target id ``e`` given a source id ``f`` or the empty word NULL, from a
uniform start over co-occurring ids and ``iterations`` rounds of EM::

    E-step: for each pair and target id e: c(f, e) += t(e|f) / sum_{f' in x + NULL} t(e|f')
    M-step: t(e | f) = c(f, e) / sum_e' c(f, e')

Each source id keeps its ``top_k`` most probable target ids (renormalised to sum to 1).
``<unk>`` is the one reserved id that takes part, on both sides: a source word whose
translations are too rare for the target vocabulary points to ``<unk>``, and a source
``<unk>`` (a word too rare for the source vocabulary) points to the target words it
co-occurs with — mostly ``<unk>`` itself when both vocabularies drop rare words — which the
estimator's ``replace_unknown`` then fills in from the word dictionary or by copying.

The decoder adds ``log(p_lex + eps)`` to its logits, where ``p_lex`` is the lexicon row of
every source token weighted by the step's attention (Arthur et al. 2016,
"Incorporating Discrete Translation Lexicons into Neural Machine Translation", the bias
method) — see :class:`~rnnkit.tasks.seq2seq.model.Seq2SeqNet`. It hands a network trained
on a few thousand pairs the word translations that the word-by-word baseline knows, and
leaves word order, agreement and idioms to the network.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Hashable, Sequence

import torch

from rnnkit.data.text.vocab import RESERVED, UNK_ID

NULL = -1
FIRST_ID = len(RESERVED)  # ids below this are reserved


def ibm1(pairs: Sequence[tuple[Sequence[Hashable], Sequence[Hashable]]], iterations: int = 5
         ) -> dict[tuple[Hashable, Hashable], float]:
    """``t(e | f)`` for every co-occurring ``(f, e)`` of ``pairs`` ``(source tokens with the
    NULL token among them, target tokens)``, after ``iterations`` EM rounds (module doc)."""
    t: dict = defaultdict(lambda: 1.0)  # uniform start: every co-occurring (f, e) weighs 1
    for _ in range(iterations):
        count: dict = defaultdict(float)
        total: dict = defaultdict(float)
        for F, E in pairs:
            for e in E:
                weights = [t[(f, e)] for f in F]
                z = sum(weights)
                for f, w in zip(F, weights):
                    count[(f, e)] += w / z
                    total[f] += w / z
        t = defaultdict(float, {(f, e): c / total[f] for (f, e), c in count.items()})
    return t


def _lexical(i: int) -> bool:
    """True for the ids that take part in the lexicon: vocabulary words and ``<unk>``."""
    return i >= FIRST_ID or i == UNK_ID


def ibm1_lexicon(sources: Sequence[Sequence[int]], targets: Sequence[Sequence[int]],
                 source_vocab: int, top_k: int = 8, iterations: int = 5
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """``(index, prob)``, each ``(source_vocab, top_k)``: row ``f`` holds the ``top_k`` most
    probable target ids of source id ``f`` and their probabilities (zeros where ``f`` has
    fewer translations, and for the reserved ids other than ``<unk>``)."""
    pairs = []
    for x, y in zip(sources, targets):
        f = sorted({i for i in x if _lexical(i)}) + [NULL]
        e = [j for j in y if _lexical(j)]
        if e:
            pairs.append((f, e))
    t = ibm1(pairs, iterations)
    best: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for (i, j), p in t.items():
        if i != NULL:
            best[i].append((p, j))
    index = torch.zeros(source_vocab, top_k, dtype=torch.long)
    prob = torch.zeros(source_vocab, top_k)
    for i, options in best.items():
        options = sorted(options, key=lambda pj: (-pj[0], pj[1]))[:top_k]
        z = sum(p for p, _ in options)
        for k, (p, j) in enumerate(options):
            index[i, k], prob[i, k] = j, p / z
    return index, prob
