"""Training-time feature augmentation: a random frequency warp, then SpecAugment masks.

**Frequency warp** (in the spirit of vocal tract length perturbation, Jaitly & Hinton
2013): a speaker's vocal tract length stretches the spectrum along frequency, which is
much of what separates voices (male/female, synthesizers). Each training utterance draws
``α ~ U[1 - w, 1 + w]`` (``w`` = ``freq_warp``) and its feature bins are read at warped
positions, linearly interpolated between neighbouring bins::

    F'[t, j] = (1 - λ) F[t, ⌊j α⌋] + λ F[t, ⌊j α⌋ + 1],   λ = j α - ⌊j α⌋,   j α clamped to [0, D - 1]

(for log-mels this stretches the mel axis; it is left out for MFCCs, whose coefficients are
not a frequency axis). **SpecAugment** (Park et al. 2019) then zeroes random frequency
bands and time stretches (:func:`rnnkit.data.audio.spec_augment`). All draws come from
torch's global RNG, so a resumed training run replays them.
"""

from __future__ import annotations

from functools import partial

import torch
from torch import Tensor


def freq_warp(feats: Tensor, max_warp: float, generator: torch.Generator | None = None) -> Tensor:
    """``feats`` ``(T, D)`` with its feature axis stretched by a random ``α`` (module doc)."""
    if max_warp <= 0 or feats.shape[1] < 2:
        return feats
    alpha = 1.0 + (2.0 * float(torch.rand((), generator=generator)) - 1.0) * max_warp
    D = feats.shape[1]
    pos = (torch.arange(D, dtype=torch.float32) * alpha).clamp(0, D - 1)  # (D,)
    lo = pos.floor().long()
    hi = (lo + 1).clamp(max=D - 1)
    lam = (pos - lo.float()).to(feats.dtype)  # (D,)
    return feats[:, lo] * (1 - lam) + feats[:, hi] * lam


def make_augment(cfg):
    """The per-utterance training transform of the settings ``cfg``, or None."""
    from rnnkit.data.audio import spec_augment

    warp = cfg.freq_warp if cfg.features == "logmel" else 0.0
    mask = partial(spec_augment, freq_masks=cfg.freq_masks, freq_width=cfg.freq_width,
                   time_masks=cfg.time_masks, time_width=cfg.time_width) if cfg.spec_augment else None
    if not warp and mask is None:
        return None

    def augment(feats: Tensor) -> Tensor:
        feats = freq_warp(feats, warp)
        return mask(feats) if mask is not None else feats

    return augment
