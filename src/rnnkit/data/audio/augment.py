"""SpecAugment (Park et al. 2019): masking bands of a feature matrix while training.

On features ``F`` of shape ``(T, D)`` (frames x features), after per-utterance
normalisation so that 0 is each feature's mean:

* each of ``freq_masks`` frequency masks draws a width ``f ~ U{0, .., min(freq_width, D)}``
  and a start ``f0 ~ U{0, .., D - f}`` and sets ``F[:, f0 : f0 + f] = 0``;
* each of ``time_masks`` time masks draws ``t ~ U{0, .., floor(time_width * T)}`` and
  ``t0 ~ U{0, .., T - t}`` and sets ``F[t0 : t0 + t, :] = 0``.

Masks may overlap. The model must then recognise words with parts of the spectrum or
short stretches of time missing, which makes it less sensitive to noise and speaker.
Time warping, the paper's third transform, is left out (it helps least).

>>> gen = torch.Generator().manual_seed(0)
>>> masked = spec_augment(feats, generator=gen)     # new (T, D) tensor; feats unchanged
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from rnnkit.errors import ConfigError, ShapeError, problem


def spec_augment(feats: Tensor, *, freq_masks: int = 2, freq_width: int = 8, time_masks: int = 2,
                 time_width: float = 0.05, generator: torch.Generator | None = None) -> Tensor:
    """A copy of ``feats (T, D)`` with random frequency and time bands set to 0 (module doc)."""
    if not isinstance(feats, Tensor) or feats.dim() != 2:
        raise ShapeError(problem("spec_augment: feats", expected="a 2-D tensor (frames, features)",
                                 got=f"shape {tuple(feats.shape)}" if isinstance(feats, Tensor)
                                 else type(feats).__name__))
    for option, value in (("freq_masks", freq_masks), ("freq_width", freq_width), ("time_masks", time_masks)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(problem(f"spec_augment: {option}", expected="an integer >= 0", got=repr(value)))
    if not 0.0 <= time_width <= 1.0:
        raise ConfigError(problem("spec_augment: time_width", expected="a fraction of the frames in [0, 1]",
                                  got=time_width))
    out = feats.clone()
    frames, features = out.shape
    _mask(out, dim=1, size=features, count=freq_masks, max_width=min(freq_width, features), generator=generator)
    _mask(out, dim=0, size=frames, count=time_masks, max_width=min(math.floor(time_width * frames), frames),
          generator=generator)
    return out


def _mask(out: Tensor, *, dim: int, size: int, count: int, max_width: int, generator: torch.Generator | None) -> None:
    """Zero ``count`` random bands of width ``U{0..max_width}`` along ``dim`` of ``out``, in place."""
    for _ in range(count):
        width = int(torch.randint(0, max_width + 1, (1,), generator=generator))
        start = int(torch.randint(0, size - width + 1, (1,), generator=generator))
        if width:
            out.narrow(dim, start, width).zero_()
