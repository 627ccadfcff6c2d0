"""The static description of one fused scan: what a kernel variant and a CUDA graph key on."""

from __future__ import annotations

from typing import NamedTuple

import torch


class ScanSpec(NamedTuple):
    """One layer-direction scan: ``mode`` "LSTM" or "GRU", sizes, and which extras are on."""

    mode: str
    L: int  # length
    N: int  # batch
    H: int  # hidden size
    ln: bool  # layer norm
    zone: int  # zoneout: 0 off, 1 masks per step (training), 2 the constant zp (inference)
    zp: float  # zoneout probability (used when zone == 2)
    rec: bool  # a recurrent-dropout mask is applied
    save: bool  # keep what backward needs (a gradient is wanted)
    device: torch.device
