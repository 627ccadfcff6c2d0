"""Decoding a target from the model, one step at a time: greedy, beam search, sampling.

Every decoder here drives a ``step_fn(prev, state) -> (log_probs (B, V), state, weights)``
(``weights`` the attention ``(B, S)`` or None), from a ``state`` of batch ``B`` whose
``select(index)`` reorders or repeats its rows. It starts from ``<bos>`` and ends a
hypothesis at ``<eos>`` or after ``max_len`` tokens.

Scores. The model score of ``y`` is ``log p(y | x) = sum_t log p(y_t | y_<t, x)``, the
``<eos>`` included; ``|y|`` counts the generated tokens, the ``<eos>`` included. Beam search
ranks finished hypotheses by the *length-normalised* score ``log p(y | x) / lp(|y|)``:

* ``"gnmt"``: ``lp(n) = ((5 + n) / 6) ** alpha`` (Wu et al. 2016, Google's NMT system);
* ``"length"``: ``lp(n) = n ** alpha`` (``alpha = 1`` is the mean log-probability per token);
* ``"none"`` or ``alpha = 0``: ``lp = 1``, the raw log-probability, which favours short outputs.

With a coverage penalty ``beta > 0`` (Wu et al. 2016), beam search ranks by
``log p(y | x) / lp(|y|) + cp``, ``cp = beta * sum_s log(min(sum_t a_t(s), 1))`` over the
source positions ``s``, ``a_t`` the attention of output step ``t``: a hypothesis that never
attends to some source words (drops them) pays for it. ``cp <= 0``, so the stopping bound
below still holds.

Beam search (width ``k``) keeps the ``k`` best live prefixes; a candidate that ends in
``<eos>`` among the best ``k`` extensions of a step is finished. The search stops when the
best finished normalised score cannot be beaten by any live prefix (a live prefix's
``log p`` only falls, and ``lp`` is at most ``lp(max_len)``, so ``score / lp(max_len)`` bounds
what it can reach), or at ``max_len`` (unfinished prefixes then compete as they are). The
greedy hypothesis is always a candidate too, so beam search never returns a lower
normalised score than greedy decoding; ``k = 1`` *is* greedy decoding.

Repeated n-grams (``no_repeat=n``, fairseq's ``--no-repeat-ngram-size``): before a token
is chosen, every token that would complete an ``n``-gram the output already holds gets
``log p = -inf``, in greedy decoding, beam search and sampling alike (``<eos>`` is never
banned). ``n = 2`` rules out ``the the`` and ``of the ... of the``; ``0`` is off.

Sampling (chat) draws each token from ``softmax(z / T)``, restricted to the ``top_k`` most
probable tokens and then to the smallest set of mass ``>= top_p`` (nucleus), renormalised,
with a seeded ``torch.Generator``: the same seed gives the same reply; ``T = 0`` is greedy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import Tensor

from rnnkit.data.text.vocab import BOS_ID, EOS_ID
from rnnkit.errors import ConfigError, problem
from rnnkit.tasks.common.sampling import next_token_distribution

StepFn = Callable[[Tensor, object], tuple[Tensor, object, "Tensor | None"]]


@dataclass
class Hypothesis:
    """One decoded output."""

    tokens: list[int]  # generated ids, without <bos> and <eos>
    score: float  # log p(y | x), the <eos> included when finished
    length: int  # |y|: generated tokens, the <eos> included
    finished: bool  # ended with <eos> (False: cut at max_len)
    attention: list[list[float]] = field(default_factory=list)  # (|y|, S) weights per step
    normalised: float = 0.0  # score / lp(length)


def length_penalty(n: int, alpha: float, kind: str = "gnmt") -> float:
    """``lp(n)``, the divisor of the log-probability (see the module doc)."""
    if kind == "none" or alpha == 0:
        return 1.0
    if kind == "gnmt":
        return ((5.0 + n) / 6.0) ** alpha
    if kind == "length":
        return float(max(n, 1)) ** alpha
    raise ConfigError(problem("length_penalty: kind", expected="'gnmt', 'length' or 'none'", got=repr(kind)))


def coverage_penalty(attention: list[list[float]], beta: float) -> float:
    """``cp = beta * sum_s log(min(sum_t a_t(s), 1))`` of one hypothesis' attention
    ``(|y|, S)`` (module doc); 0 for ``beta = 0`` or no attention."""
    if not beta or not attention:
        return 0.0
    total = torch.tensor(attention, dtype=torch.float64).sum(0)  # (S,)
    return float(beta * torch.log(total.clamp(1e-12, 1.0)).sum())


def ban_repeats(logp: Tensor, histories: list[list[int]], n: int) -> Tensor:
    """``logp`` ``(R, V)`` with ``-inf`` at every token that would complete an ``n``-gram
    already in row ``r``'s output ``histories[r]`` (see the module doc); unchanged for
    ``n = 0``."""
    if n <= 0:
        return logp
    rows, tokens = [], []
    for r, seen in enumerate(histories):
        prefix = seen[len(seen) - n + 1:] if n > 1 else []  # the last n - 1 tokens
        for j in range(len(seen) - n + 1):  # every n-gram seen[j : j + n] so far
            if seen[j:j + n - 1] == prefix:
                rows.append(r)
                tokens.append(seen[j + n - 1])
    if not rows:
        return logp
    logp = logp.clone()
    logp[rows, tokens] = float("-inf")
    return logp


def _normalise(h: Hypothesis, alpha: float, kind: str, beta: float = 0.0) -> Hypothesis:
    h.normalised = h.score / length_penalty(h.length, alpha, kind) + coverage_penalty(h.attention, beta)
    return h


@torch.no_grad()
def greedy(step_fn: StepFn, state, batch: int, max_len: int | list[int], *, alpha: float = 0.0,
           kind: str = "gnmt", device=None, source_lengths: list[int] | None = None,
           no_repeat: int = 0) -> list[Hypothesis]:
    """The most probable token at every step, for ``batch`` sources at once (``max_len``
    one limit for all or one per source). ``source_lengths`` cuts each hypothesis' attention
    rows to its own source (the batch's padding left out); ``no_repeat`` bans repeated
    n-grams (module doc)."""
    return _walk(step_fn, state, batch, max_len, lambda logp: logp.argmax(-1), alpha, kind, device,
                 source_lengths, no_repeat)


@torch.no_grad()
def sample(step_fn: StepFn, state, batch: int, max_len: int, *, temperature: float = 1.0,
           top_k: int | None = None, top_p: float | None = None, seed: int | None = None,
           device=None, no_repeat: int = 0) -> list[Hypothesis]:
    """Tokens drawn one by one (see the module doc); ``temperature=0`` is greedy."""
    generator = torch.Generator()
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)

    def choose(logp: Tensor) -> Tensor:
        p = next_token_distribution(logp.detach().cpu().double(), temperature, top_k, top_p)
        if temperature == 0:
            return p.argmax(-1).to(logp.device)
        return torch.multinomial(p, 1, generator=generator)[:, 0].to(logp.device)

    return _walk(step_fn, state, batch, max_len, choose, 0.0, "none", device, no_repeat=no_repeat)


def _limits(max_len: int | list[int], batch: int) -> list[int]:
    return [max_len] * batch if isinstance(max_len, int) else list(max_len)


def _walk(step_fn: StepFn, state, batch: int, max_len: int | list[int], choose, alpha: float,
          kind: str, device, source_lengths: list[int] | None = None, no_repeat: int = 0
          ) -> list[Hypothesis]:
    limits = _limits(max_len, batch)
    cut = source_lengths or [None] * batch
    prev = torch.full((batch,), BOS_ID, dtype=torch.int64, device=device)  # (B,)
    hyps = [Hypothesis([], 0.0, 0, False) for _ in range(batch)]
    alive = list(range(batch))  # rows of `state` -> hypothesis index
    for _ in range(max(limits, default=0)):
        logp, state, weights = step_fn(prev, state)  # (b, V)
        if no_repeat:
            logp = ban_repeats(logp, [hyps[i].tokens for i in alive], no_repeat)
        token = choose(logp)  # (b,)
        picked = logp.gather(1, token[:, None])[:, 0].tolist()
        rows = weights.tolist() if weights is not None else None
        keep = []
        for row, (i, tok) in enumerate(zip(alive, token.tolist())):
            h = hyps[i]
            h.score += picked[row]
            h.length += 1
            if rows is not None:
                h.attention.append(rows[row][:cut[i]])
            if tok == EOS_ID:
                h.finished = True
            else:
                h.tokens.append(tok)
                if h.length < limits[i]:
                    keep.append(row)
        if not keep:
            break
        if len(keep) < len(alive):
            index = torch.tensor(keep, device=token.device)
            state, token = state.select(index), token[index]
            alive = [alive[r] for r in keep]
        prev = token
    return [_normalise(h, alpha, kind) for h in hyps]


@torch.no_grad()
def beam_search(step_fn: StepFn, state, beam: int, max_len: int, *, alpha: float = 0.6,
                kind: str = "gnmt", beta: float = 0.0, device=None, no_repeat: int = 0) -> Hypothesis:
    """The best hypothesis for one source (``state`` of batch 1) by normalised score
    (with the coverage penalty ``beta``; ``no_repeat`` bans repeated n-grams)."""
    return beam_search_batch(step_fn, state, 1, beam, max_len, alpha=alpha, kind=kind, beta=beta,
                             device=device, no_repeat=no_repeat)[0]


@torch.no_grad()
def beam_search_batch(step_fn: StepFn, state, batch: int, beam: int, max_len: int | list[int], *,
                      alpha: float = 0.6, kind: str = "gnmt", beta: float = 0.0, device=None,
                      source_lengths: list[int] | None = None, no_repeat: int = 0) -> list[Hypothesis]:
    """Beam search for ``batch`` sources at once (``state`` of batch ``B``; ``max_len`` one
    limit for all or one per source): the best hypothesis of each, as :func:`beam_search`
    finds it for that source alone.

    The network steps all live prefixes of all unfinished sources together; the rows of
    one source are contiguous, at most ``beam`` of them, and a source leaves the batch as
    soon as its search has settled. ``source_lengths`` cuts the attention rows to each
    source's own length, so padding never enters the coverage penalty.
    """
    limits = _limits(max_len, batch)
    cut = source_lengths or [None] * batch
    best_greedy = [_normalise(h, alpha, kind, beta) for h in
                   greedy(step_fn, state, batch, limits, alpha=alpha, kind=kind, device=device,
                          source_lengths=source_lengths, no_repeat=no_repeat)]
    if beam == 1:
        return best_greedy
    finished = [[g] if g.finished else [] for g in best_greedy]
    live = [[Hypothesis([], 0.0, 0, False)] for _ in range(batch)]
    active = list(range(batch))  # sources with live prefixes, in the order of their rows
    scores = torch.zeros(batch, dtype=torch.float64)  # (R,) log p of the live prefixes
    prev = torch.full((batch,), BOS_ID, dtype=torch.int64, device=device)
    for t in range(max(limits, default=0)):
        logp, state, weights = step_fn(prev, state)  # (R, V)
        V = logp.shape[1]
        if no_repeat:
            logp = ban_repeats(logp, [h.tokens for i in active for h in live[i]], no_repeat)
        total = scores.to(logp.device)[:, None] + logp.double()  # (R, V)
        rows_attention = weights.tolist() if weights is not None else None
        rows, tokens, still = [], [], []
        start = 0
        for i in active:
            n = len(live[i])
            top_scores, top = total[start:start + n].reshape(-1).topk(min(2 * beam, n * V))
            new_live, new_rows, new_tokens = [], [], []
            for rank, (s, flat) in enumerate(zip(top_scores.tolist(), top.tolist())):
                row, tok = divmod(flat, V)
                parent = live[i][row]
                step_attention = ([rows_attention[start + row][:cut[i]]]
                                  if rows_attention is not None else [])
                h = Hypothesis(parent.tokens + ([] if tok == EOS_ID else [tok]), s, t + 1,
                               tok == EOS_ID, parent.attention + step_attention)
                if tok == EOS_ID:
                    if rank < beam:
                        finished[i].append(_normalise(h, alpha, kind, beta))
                elif len(new_live) < beam:
                    new_live.append(h)
                    new_rows.append(start + row)
                    new_tokens.append(tok)
            start += n
            live[i] = new_live
            if not new_live or _settled(finished[i], new_live, limits[i], alpha, kind):
                continue
            if t + 1 >= limits[i]:  # max_len reached: unfinished prefixes compete as they are
                finished[i] += [_normalise(h, alpha, kind, beta) for h in new_live]
                continue
            still.append(i)
            rows += new_rows
            tokens += new_tokens
        active = still
        if not active:
            break
        index = torch.tensor(rows, device=logp.device)
        state = state.select(index)
        scores = torch.tensor([h.score for i in active for h in live[i]], dtype=torch.float64)
        prev = torch.tensor(tokens, dtype=torch.int64, device=logp.device)
    for i in active:  # only with a limit of 0 steps
        finished[i] += [_normalise(h, alpha, kind, beta) for h in live[i]]
    out = []
    for i in range(batch):
        candidates = finished[i] or [best_greedy[i]]
        if not best_greedy[i].finished:
            candidates.append(best_greedy[i])
        out.append(max(candidates, key=lambda h: h.normalised))
    return out


def _settled(finished: list[Hypothesis], live: list[Hypothesis], max_len: int, alpha: float,
             kind: str) -> bool:
    """True when no live prefix can beat the best finished hypothesis (module doc)."""
    if not finished:
        return False
    best = max(h.normalised for h in finished)
    bound = max(h.score for h in live) / length_penalty(max_len, alpha, kind)
    return best >= bound
