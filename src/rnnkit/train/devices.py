"""Pick the device to train on and whether mixed precision applies there."""

from __future__ import annotations

import os
import warnings

import torch

from rnnkit.errors import ConfigError, problem


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def select_device(name: str = "auto") -> torch.device:
    """``"auto"``: cuda (this process's ``LOCAL_RANK`` GPU under torchrun), then mps, then cpu."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as err:
        raise ConfigError(problem("TrainConfig.device", expected="'auto', 'cpu', 'cuda', "
                                  "'cuda:N' or 'mps'", got=repr(name))) from err
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(problem("TrainConfig.device", expected="a device this machine has",
                                  got=repr(name), fix="no CUDA GPU is visible; use 'auto' or 'cpu'"))
    if device.type == "mps" and not _mps_available():
        raise ConfigError(problem("TrainConfig.device", expected="a device this machine has",
                                  got=repr(name), fix="MPS is not available; use 'auto' or 'cpu'"))
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    return device


def make_grad_scaler():
    """A GradScaler for CUDA (``torch.amp`` since torch 2.3, ``torch.cuda.amp`` before)."""
    if hasattr(torch.amp, "GradScaler"):
        return torch.amp.GradScaler("cuda")
    return torch.cuda.amp.GradScaler()


def amp_enabled(requested: bool, device: torch.device) -> bool:
    """Mixed precision runs on CUDA only; elsewhere a request for it warns and is ignored."""
    if requested and device.type != "cuda":
        warnings.warn(f"amp=True is ignored on {device.type}: mixed precision with GradScaler "
                      "runs on CUDA only; training in float32", UserWarning, stacklevel=3)
        return False
    return requested
