"""Scoring a chat model: Recall@k of ``n`` candidates (:mod:`~rnnkit.tasks.chat.metrics`)
for the dual encoder, its reranked version and the baselines, on one set of candidates.

Every method ranks the same candidates (drawn once with ``seed`` from the other replies of
the evaluated set, never from the bank):

* ``rnnkit``: the model's score ``scale * <c, r>`` (plus ``lexical_weight`` times the
  TF-IDF cosine, when that is > 0; then a ``dual-encoder`` row gives the first term alone);
* ``rnnkit+rerank`` (with ``rerank=``): the combined score of
  :func:`~rnnkit.tasks.chat.selection.rerank` over the ``n`` candidates;
* ``tfidf`` and ``random``: :mod:`~rnnkit.tasks.chat.baselines`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from rnnkit.errors import ConfigError, problem, unknown_name
from rnnkit.tasks.chat.baselines import NAMES, RANDOM, TFIDF, random_scores
from rnnkit.tasks.chat.metrics import recall_at
from rnnkit.tasks.chat.selection import combine, likelihoods
from rnnkit.tasks.chat.turns import context_text
from rnnkit.tasks.core import Report

MODEL, RERANKED, DENSE = "rnnkit", "rnnkit+rerank", "dual-encoder"


@dataclass(repr=False)  # keep Report's table-first repr
class ChatReport(Report):
    """What :meth:`ChatModel.evaluate` returns: ``table``, one row per method (``rnnkit``
    first), columns ``method``, ``recall@1``, ``recall@2``, ``recall@5`` (the ``ks`` asked
    for) and ``n`` (pairs scored); ``candidates`` (n of Recall@k of n) and ``seed``."""

    candidates: int = 10
    seed: int = 0

    def fields_note(self) -> str:
        return f"Recall@k of {self.candidates} candidates, seed {self.seed}"

    @property
    def metrics(self) -> dict[str, dict[str, float]]:
        """``{method: {metric: value}}`` (what a model file keeps)."""
        return self.table.set_index("method").to_dict(orient="index")

    def to_markdown(self, digits: int = 3) -> str:
        return Report(self.table.set_index("method")).to_markdown(digits)

    def plot(self, metric: str | None = None, path: str | Path | None = None, *, group: str | None = None):
        return Report(self.table.set_index("method")).plot(metric or "recall@1", path, group=group)


def check_request(candidates, ks, baselines, where: str) -> tuple[list[int], list[str]]:
    """The ``ks`` and baseline names of an evaluation, checked."""
    if isinstance(candidates, bool) or not isinstance(candidates, int) or not 2 <= candidates <= 1000:
        raise ConfigError(problem(f"{where}: candidates", expected="an integer in [2, 1000]",
                                  got=repr(candidates)))
    ks = [ks] if isinstance(ks, int) else list(ks)
    if not ks or any(isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= candidates for k in ks):
        raise ConfigError(problem(f"{where}: ks", expected=f"integers in [1, candidates={candidates}]",
                                  got=repr(ks)))
    names = [baselines] if isinstance(baselines, str) else list(baselines or ())
    for name in names:
        if name not in NAMES:
            raise ConfigError(f"{where}: " + unknown_name("baseline", str(name), NAMES))
    return sorted(set(ks)), names


def evaluate_chat(model_scores: np.ndarray, turn_lists: list[list[str]], replies: list[str],
                  cand: np.ndarray, *, dense_alone: np.ndarray | None = None, ks: list[int],
                  baselines: list[str], tfidf, rerank,
                  rerank_weight: float, seed: int) -> ChatReport:
    """Recall@k (module doc) of the model's scores ``(M, n)`` of the candidates ``cand``
    ``(M, n)`` (column 0 the true reply; indices into ``replies``), of the reranked scores
    (``rerank`` not None) and of the ``baselines`` (``tfidf``: a fitted
    :class:`~rnnkit.tasks.chat.baselines.TfidfRetrieval`, or None to skip it)."""
    n = cand.shape[1]
    scores = {MODEL: model_scores}
    if dense_alone is not None:
        scores[DENSE] = dense_alone
    if rerank is not None:
        sources = [context_text(turn_lists[m]) for m in range(len(cand)) for _ in range(n)]
        ll = likelihoods(rerank, sources, [replies[j] for j in cand.ravel()], "ChatModel.evaluate")
        scores[RERANKED] = combine(model_scores, ll.reshape(cand.shape), rerank_weight)
    if TFIDF in baselines and tfidf is not None:
        scores[TFIDF] = tfidf.scores([" ".join(t) for t in turn_lists], replies, cand)
    if RANDOM in baselines:
        scores[RANDOM] = random_scores(cand.shape, seed + 1)
    rows = []
    for name, s in scores.items():
        recall = recall_at(s, ks, np.random.default_rng(seed))
        rows.append({"method": name, **{f"recall@{k}": recall[k] for k in ks}, "n": len(cand)})
    return ChatReport(pd.DataFrame(rows), candidates=n, seed=seed)


LEXICAL_GRID = (0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)


def choose_lexical_weight(dense: np.ndarray, lexical: np.ndarray, seed: int) -> float:
    """The weight ``w`` of :data:`LEXICAL_GRID` whose scores ``dense + w * lexical``
    ``(M, n)`` (column 0 the true reply) give the best Recall@1; the smallest among equals."""
    best, best_recall = 0.0, -1.0
    for w in LEXICAL_GRID:
        recall = recall_at(dense + w * lexical, (1,), np.random.default_rng(seed))[1]
        if recall > best_recall:
            best, best_recall = w, recall
    return best
