"""Choosing the next token from the model's logits: temperature, top-k, top-p, a seed.

For logits ``z`` ``(V,)`` the sampling distribution is built in three steps:

1. temperature ``T > 0``: ``p = softmax(z / T)``; ``T < 1`` sharpens, ``T > 1`` flattens.
   ``T = 0`` means greedy decoding: the most probable token (the first on a tie), and
   top-k / top-p are then irrelevant.
2. top-k (Fan et al. 2018): keep the ``k`` most probable tokens (all when ``k >= V``).
3. top-p, nucleus sampling (Holtzman et al. 2020): sort the kept tokens by probability and
   keep the smallest prefix whose mass is ``>= p`` (at least one token).

What is kept is renormalised to sum to 1 and one token is drawn from it with a
``torch.Generator`` seeded with ``seed`` (:func:`make_generator`), so the same seed, prompt
and settings give the same text. Bad settings raise :class:`~rnnkit.errors.ConfigError`.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rnnkit.errors import ConfigError, problem
from rnnkit.tasks.core import Int, is_number


def check_sampling(temperature, top_k, top_p, seed, who: str = "generate") -> None:
    """Refuse bad sampling settings with a message that says what to pass."""
    if not is_number(temperature) or temperature < 0:
        raise ConfigError(problem(f"{who}: temperature", expected="a number >= 0 (0 = greedy)",
                                  got=repr(temperature)))
    Int(1, optional=True)(who, "top_k", top_k)
    if top_p is not None and (not is_number(top_p) or not 0 < top_p <= 1):
        raise ConfigError(problem(f"{who}: top_p", expected="None or a number in (0, 1]",
                                  got=repr(top_p), fix="e.g. top_p=0.9 keeps the tokens that "
                                  "make up 90% of the probability mass"))
    Int(0, optional=True)(who, "seed", seed)


def make_generator(seed: int | None) -> torch.Generator:
    """A CPU generator seeded with ``seed`` (a fresh random seed when None)."""
    g = torch.Generator()
    if seed is None:
        g.seed()
    else:
        g.manual_seed(seed)
    return g


def top_k_filter(p: Tensor, k: int | None) -> Tensor:
    """``p`` ``(..., V)`` with all but the ``k`` largest of each row set to 0."""
    if k is None or k >= p.shape[-1]:
        return p
    kth = torch.topk(p, k, dim=-1).indices  # (..., k)
    keep = torch.zeros_like(p, dtype=torch.bool).scatter_(-1, kth, True)
    return p.masked_fill(~keep, 0.0)


def top_p_filter(p: Tensor, top_p: float | None) -> Tensor:
    """``p`` ``(..., V)`` (sums to 1) keeping the smallest most-probable set of mass ``>= top_p``."""
    if top_p is None or top_p >= 1:
        return p
    sorted_p, order = torch.sort(p, dim=-1, descending=True)  # (..., V)
    before = torch.cumsum(sorted_p, dim=-1) - sorted_p  # mass of the tokens ranked above
    keep_sorted = before < top_p  # a token is kept while the mass before it is short of p
    keep_sorted[..., 0] = True
    keep = torch.zeros_like(keep_sorted).scatter_(-1, order, keep_sorted)
    return p.masked_fill(~keep, 0.0)


def next_token_distribution(logits: Tensor, temperature: float = 1.0, top_k: int | None = None,
                            top_p: float | None = None) -> Tensor:
    """The distribution ``(..., V)`` that :func:`sample` draws from (one-hot for ``T = 0``)."""
    logits = logits.double()
    if temperature == 0:
        return torch.zeros_like(logits).scatter_(-1, logits.argmax(-1, keepdim=True), 1.0)
    p = torch.softmax(logits / temperature, dim=-1)
    p = top_k_filter(p, top_k)
    p = p / p.sum(-1, keepdim=True)
    p = top_p_filter(p, top_p)
    return p / p.sum(-1, keepdim=True)


def sample(logits: Tensor, generator: torch.Generator, temperature: float = 1.0,
           top_k: int | None = None, top_p: float | None = None) -> int:
    """One token id drawn from ``logits`` ``(V,)`` with the settings above."""
    p = next_token_distribution(logits.detach().cpu(), temperature, top_k, top_p)
    if temperature == 0:
        return int(p.argmax())
    return int(torch.multinomial(p, 1, generator=generator))
