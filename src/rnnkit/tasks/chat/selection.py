"""Choosing the replies to return among the best-scored bank replies of one context.

Scores ``s_i`` are the model's (``scale * cosine``, plus ``lexical_weight`` times the
TF-IDF cosine), or after reranking the combined ones.

* Echoes (:func:`echoes`): a reply of 3+ words whose words overlap those of the message,
  or of any earlier turn given (at most :data:`ECHO_TURNS` of them), by more than
  ``max_echo`` (Jaccard) is skipped before anything else: lexical similarity favours
  repeating the message, and a bot that says again what was already said in the
  conversation (its own earlier replies included) gives no answer.

* Reranking (:func:`rerank`) by a generator, any object with
  ``log_likelihood(sources, targets) -> (P,)`` (the mean log-probability per target
  token, as :meth:`rnnkit.Seq2Seq.log_likelihood`). The top ``P`` replies get::

      s'_i = log softmax(s)_i + w * ll_i          w = rerank_weight

  both log-probabilities: the retrieval model's distribution over these ``P`` replies
  and the generator's per-token likelihood of the reply given ``"context <sep> message"``.
  ``w = 0`` keeps the retrieval order; a large ``w`` follows the generator.
* Temperature ``T > 0`` (:func:`sample_keys`): the order becomes a draw without
  replacement from ``softmax(s / T)`` (Gumbel top-k: keys ``s_i / T + g_i``, ``g_i``
  standard Gumbel from ``seed``), so equal seeds give equal replies; ``T -> 0`` is the
  score order.
* Diversity ``lambda`` in [0, 1) (:func:`mmr`, maximal marginal relevance, Carbonell &
  Goldstein 1998): replies are picked one at a time, each maximising::

      (1 - lambda) * rel_i - lambda * max_{j picked} cos(r_i, r_j)

  with ``rel_i = s_i / scale`` (the cosine, for unreranked scores; the keys of sampling
  when ``T > 0``), so near-duplicates of a picked reply fall back.
"""

from __future__ import annotations

import numpy as np
from scipy.special import log_softmax

from rnnkit.errors import ConfigError, DataError, problem
from rnnkit.tasks.core import is_number

ECHO_MIN_WORDS = 3  # a shorter reply ("hi!" to "hi!") is never an echo
ECHO_MARGIN = 100  # extra replies looked at when echoes are skipped
ECHO_TURNS = 16  # the most recent turns of a conversation a reply must not repeat
DIVERSITY_POOL = 50  # replies MMR chooses among
SAMPLE_POOL = 10  # replies temperature sampling draws from, at least (or k)


def _count(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 1000


def check_options(k, diversity, temperature, seed, rerank, rerank_top, where: str) -> None:
    """Refuse an out-of-range option of ``replies`` with one line."""
    checks = (("k", k, _count(k), "an integer in [1, 1000]"),
              ("diversity", diversity, is_number(diversity) and 0 <= diversity < 1, "a number in [0, 1)"),
              ("temperature", temperature, is_number(temperature) and temperature >= 0,
               "a number >= 0 (0 = the best first)"),
              ("seed", seed, seed is None or (isinstance(seed, int) and not isinstance(seed, bool)
                                              and seed >= 0), "None or an integer >= 0"),
              ("rerank_top", rerank_top, _count(rerank_top), "an integer in [1, 1000]"))
    for name, value, ok, expected in checks:
        if not ok:
            raise ConfigError(problem(f"{where}: {name}", expected=expected, got=repr(value)[:60]))
    if rerank is not None and not callable(getattr(rerank, "log_likelihood", None)):
        raise ConfigError(problem(f"{where}: rerank", expected="None or an object with "
                                  "log_likelihood(sources, targets), e.g. a chat Seq2Seq",
                                  got=type(rerank).__name__))


def pool_size(k: int, diversity: float, temperature: float, rerank, rerank_top: int) -> int:
    """How many of the best replies the choice looks at."""
    if rerank is not None:  # the choice is made among the reranked replies
        return max(k, rerank_top)
    n = k
    if diversity > 0:
        n = max(n, DIVERSITY_POOL)
    if temperature > 0:
        n = max(n, SAMPLE_POOL)
    return n


def words(tokenizer, text: str) -> set[str]:
    """The distinct tokens of ``text`` that hold a letter or digit."""
    return {t for t in tokenizer.tokenize(text) if any(ch.isalnum() for ch in t)}


def echoes(tokenizer, said: list[str], texts: list[str], max_echo: float) -> np.ndarray:
    """``(P,)`` bool: which ``texts`` echo one of the turns ``said`` (the message and the
    earlier turns): ``ECHO_MIN_WORDS`` or more words, and a word overlap with that turn
    (Jaccard: shared words / the words of both) above ``max_echo``."""
    turns = [words(tokenizer, t) for t in said]
    out = np.zeros(len(texts), dtype=bool)
    for i, text in enumerate(texts):
        w = words(tokenizer, text)
        out[i] = len(w) >= ECHO_MIN_WORDS and any(len(w & t) > max_echo * len(w | t) for t in turns)
    return out


def likelihoods(reranker, sources: list[str], texts: list[str], where: str) -> np.ndarray:
    """The reranker's mean log-probability per token of each ``texts[i]`` given
    ``sources[i]``: ``(P,)`` float64, checked finite and one per pair."""
    ll = np.asarray(reranker.log_likelihood(list(sources), list(texts)), dtype=np.float64)
    if ll.shape != (len(texts),) or not np.isfinite(ll).all():
        raise DataError(problem(f"{where}: rerank.log_likelihood", expected=f"{len(texts)} finite "
                                "numbers, one per pair", got=f"shape {ll.shape}",
                                fix="pass a reranker whose log_likelihood returns one number per pair"))
    return ll


def combine(scores: np.ndarray, ll: np.ndarray, weight: float) -> np.ndarray:
    """``log softmax(scores) + weight * ll`` along the last axis (module doc)."""
    return log_softmax(scores.astype(np.float64), axis=-1) + weight * ll


def rerank(reranker, source: str, texts: list[str], scores: np.ndarray, weight: float,
           where: str) -> np.ndarray:
    """Combined scores ``(P,)`` of the replies ``texts`` to one context (module doc)."""
    return combine(scores, likelihoods(reranker, [source] * len(texts), texts, where), weight)


def sample_keys(scores: np.ndarray, temperature: float, seed: int | None) -> np.ndarray:
    """Gumbel keys ``s / T + g`` ``(P,)``; sorting them draws from ``softmax(s / T)``."""
    g = np.random.default_rng(seed).gumbel(size=len(scores))
    return scores / temperature + g


def mmr(relevance: np.ndarray, vectors: np.ndarray, k: int, diversity: float) -> list[int]:
    """Positions of ``k`` replies picked by maximal marginal relevance (module doc), from
    relevance ``(P,)`` and unit vectors ``(P, K)``."""
    sims = vectors @ vectors.T  # (P, P)
    picked: list[int] = []
    closest = np.full(len(relevance), -np.inf)  # max cosine to a picked reply, (P,)
    free = np.ones(len(relevance), dtype=bool)
    for _ in range(min(k, len(relevance))):
        penalty = np.where(np.isfinite(closest), closest, 0.0)
        value = np.where(free, (1 - diversity) * relevance - diversity * penalty, -np.inf)
        i = int(np.argmax(value))
        picked.append(i)
        free[i] = False
        closest = np.maximum(closest, sims[i])
    return picked


def choose(scores: np.ndarray, vectors: np.ndarray, k: int, diversity: float, temperature: float,
           seed: int | None, scale: float) -> list[int]:
    """Positions ``k`` into the pool (scores ``(P,)`` best first, vectors ``(P, K)``) of the
    replies to return, in order."""
    keys = sample_keys(scores, temperature, seed) if temperature > 0 else scores
    if diversity > 0:
        relevance = keys * (temperature if temperature > 0 else 1.0) / scale
        return mmr(relevance, vectors, k, diversity)
    return [int(i) for i in np.argsort(-keys, kind="stable")[:k]]
