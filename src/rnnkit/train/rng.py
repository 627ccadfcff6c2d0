"""Seed, capture and restore every random number generator training touches.

States are held as tensors, ints and lists so a checkpoint loads with
``torch.load(..., weights_only=True)``: numpy's and Python's states are converted.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, numpy's global RNG and torch (CPU and every GPU)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _cuda_in_use() -> bool:
    # Only this process's current GPU: asking for every GPU's state would create a CUDA
    # context on each of them, in each process of a DDP job.
    return torch.cuda.is_available() and torch.cuda.is_initialized()


def capture_rng() -> dict[str, Any]:
    """The state of every RNG, in a form that ``weights_only`` loading accepts."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    version, internal, python_gauss = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": [torch.cuda.get_rng_state()] if _cuda_in_use() else [],
        "numpy": {"kind": str(kind), "keys": torch.from_numpy(keys.astype(np.int64)),
                  "pos": int(pos), "has_gauss": int(has_gauss), "gauss": float(gauss)},
        "python": {"version": int(version), "state": torch.tensor(internal, dtype=torch.int64),
                   "gauss": python_gauss},
    }


def restore_rng(state: dict[str, Any]) -> None:
    """Put every RNG back into a state from :func:`capture_rng`."""
    torch.set_rng_state(state["torch"].cpu())
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda"][0].cpu())
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"],
                         n["has_gauss"], n["gauss"]))
    p = state["python"]
    random.setstate((p["version"], tuple(int(x) for x in p["state"].tolist()), p["gauss"]))
