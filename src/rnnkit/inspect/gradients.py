"""How far back a trained network can learn: the gradient norm reaching each earlier step.

For a scalar output ``s`` of the network (a forecast, a class logit, a translation's
log-probability) and its input sequence ``x_1 .. x_T``, :func:`gradient_reach` returns

    r_t = || ∂s / ∂x_t ||_2          t = 1 .. T

A recurrent net that can use step ``t`` has ``r_t`` well above zero there; a vanishing
gradient shows as ``r_t`` falling by orders of magnitude with distance from the output
(Bengio et al. 1994; Hochreiter & Schmidhuber 1997). The network runs in inference mode.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import Tensor


def gradient_reach(fn: Callable[[Tensor], Tensor], x: Tensor) -> np.ndarray:
    """``||∂ fn(x) / ∂ x[t]||_2`` for each step: ``x`` ``(T, F)`` -> ``(T,)`` float64.

    ``fn`` maps a leaf copy of ``x`` to a scalar tensor."""
    leaf = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        out = fn(leaf)
        if out.dim() != 0:
            raise ValueError(f"gradient_reach: fn must return a scalar, got shape {tuple(out.shape)}")
        (grad,) = torch.autograd.grad(out, leaf)
    return grad.detach().double().flatten(1).norm(dim=1).numpy()


def reach_steps(norms: np.ndarray, ratio: float = 1e-3) -> int:
    """Steps back from the last whose gradient norm is at least ``ratio`` times the largest."""
    if norms.size == 0 or not np.isfinite(norms).all() or norms.max() <= 0:
        return 0
    return int((norms >= ratio * norms.max()).sum())


class EmbeddingSwap:
    """Context manager: make ``module`` (an ``nn.Embedding``) return ``values`` instead of
    looking ids up, so a gradient can be taken with respect to the embedded sequence.

    ``values`` ``(T, E)`` replaces the lookup of a ``(1, T)`` batch of ids."""

    def __init__(self, module: torch.nn.Module, values: Tensor) -> None:
        self.module, self.values, self.handle = module, values, None

    def __enter__(self) -> "EmbeddingSwap":
        def swap(_module, _inputs, output):
            return self.values.reshape(output.shape).to(output.dtype)

        self.handle = self.module.register_forward_hook(swap)
        return self

    def __exit__(self, *exc) -> None:
        self.handle.remove()
