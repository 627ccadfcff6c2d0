"""The rnnkit model file format, version 1: constants and the in-memory :class:`Bundle`.

A model file ``NAME.rnnkit`` is a zip archive holding exactly two members:

``rnnkit.json`` (UTF-8 JSON object, deflated)::

    {
      "format": "rnnkit-bundle",         # identifies the file; always this string
      "format_version": 1,               # int >= 1; a reader refuses a newer one
      "task": "forecaster",              # registered task name (rnnkit.tasks.registry)
      "config": {...},                   # the estimator's constructor arguments
      "preprocessing": {...},            # fitted state: vocabularies, scaler means, ...
      "metrics": {...},                  # evaluation results at save time
      "library_version": "0.1.0",        # rnnkit version that wrote the file
      "created": "2025-01-01T00:00:00+00:00",   # UTC, ISO 8601
      "weights_sha256": "<64 hex digits>",      # sha256 of the exact member bytes below
      "weights_format": "safetensors",
      "content_sha256": "<64 hex digits>",      # sha256 over all of the above and the
                                                # weights (rnnkit.bundle.digest); optional
      "signature": {"scheme": "ed25519", "public_key": "<hex>", "value": "<hex>"}
                                                # optional (rnnkit.bundle.signing)
    }

``weights.safetensors`` (stored uncompressed): every tensor, name -> contiguous CPU
tensor, in the safetensors format (https://github.com/huggingface/safetensors), which
holds raw bytes and a JSON header and never runs code when read.

JSON values are plain: dict (str keys), list, str, int, float, bool, null. Non-finite
floats are written as Python's ``NaN`` / ``Infinity`` tokens. Unknown top-level keys are
ignored by this reader, so a later version 1 writer may add keys; anything that an older
reader could misread needs a new ``format_version``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from rnnkit._version import __version__

FORMAT_NAME = "rnnkit-bundle"
FORMAT_VERSION = 1  # the highest format_version this rnnkit reads and the one it writes
SUFFIX = ".rnnkit"

JSON_MEMBER = "rnnkit.json"
WEIGHTS_MEMBER = "weights.safetensors"
MEMBERS = (JSON_MEMBER, WEIGHTS_MEMBER)
WEIGHTS_FORMAT = "safetensors"

MiB = 1024**2
GiB = 1024**3
# Largest uncompressed size a reader accepts per member: a guard against zip bombs.
MEMBER_LIMITS: dict[str, int] = {JSON_MEMBER: 64 * MiB, WEIGHTS_MEMBER: 8 * GiB}

# Keys every version 1 rnnkit.json holds, with the JSON type each must have.
REQUIRED_KEYS: dict[str, type | tuple[type, ...]] = {
    "task": str,
    "config": dict,
    "preprocessing": dict,
    "metrics": dict,
    "library_version": str,
    "created": str,
    "weights_sha256": str,
    "weights_format": str,
}


@dataclasses.dataclass
class Bundle:
    """Everything a model file holds, in memory.

    Attributes:
        task: registered task name, e.g. ``"forecaster"``.
        config: the estimator's constructor arguments (JSON values).
        tensors: parameter and buffer tensors by name (CPU, contiguous when read).
        preprocessing: fitted preprocessing state (JSON values).
        metrics: evaluation results (JSON values).
        format_version: the file's format version (the writer always writes
            :data:`FORMAT_VERSION`).
        library_version: the rnnkit version that wrote the file.
        created: UTC ISO 8601 timestamp of the save; None for a bundle not yet saved.
        content_sha256: the content digest (:mod:`rnnkit.bundle.digest`) the reader
            computed and verified; None for a bundle not read from a file.
        signed_by: fingerprint (``"ed25519:<16 hex>"``) of the key whose signature the
            reader verified; None for an unsigned file.
    """

    task: str
    config: dict[str, Any]
    tensors: dict[str, torch.Tensor]
    preprocessing: dict[str, Any] = dataclasses.field(default_factory=dict)
    metrics: dict[str, Any] = dataclasses.field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    library_version: str = __version__
    created: str | None = None
    content_sha256: str | None = None
    signed_by: str | None = None


def human_size(n: int) -> str:
    """``1536`` -> ``'1.5 KiB'``: a byte count for error messages."""
    if n < 1024:
        return f"{n} bytes"
    size, unit = n / 1024, "KiB"
    for bigger in ("MiB", "GiB", "TiB"):
        if size < 1024:
            break
        size, unit = size / 1024, bigger
    return f"{size:.1f} {unit}"
