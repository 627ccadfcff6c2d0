"""The content digest: one sha256 over everything a model file holds.

``content_sha256`` in rnnkit.json is the sha256 of::

    b"rnnkit-bundle/content-sha256/v1\\n"
    + len(J).to_bytes(8, "big") + J            # J: the canonical JSON below
    + b"rnnkit-bundle/weights\\n"
    + the exact bytes of weights.safetensors

where ``J`` is rnnkit.json without the keys ``content_sha256`` and ``signature``, encoded
as ``json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
allow_nan=True)`` in UTF-8. The encoding is of the *parsed* document, so it does not
depend on whitespace or key order in the file; Python's float repr round-trips exactly.
The length prefix and the labels keep the two parts from being shifted into each other.

A digest stored beside the data proves *integrity* (nothing was changed by accident or
by a careless edit), not *origin*: anyone who edits the file can recompute it. Signatures
(:mod:`rnnkit.bundle.signing`) prove origin.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

CONTENT_KEY = "content_sha256"
SIGNATURE_KEY = "signature"
UNSIGNED_KEYS = (CONTENT_KEY, SIGNATURE_KEY)
_DOMAIN = b"rnnkit-bundle/content-sha256/v1\n"
_WEIGHTS = b"rnnkit-bundle/weights\n"


def canonical_json(document: dict[str, Any]) -> bytes:
    """The canonical encoding of ``document`` without the digest and signature keys."""
    body = {k: v for k, v in document.items() if k not in UNSIGNED_KEYS}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=True).encode("ascii")


def content_hasher(document: dict[str, Any]) -> Any:
    """A sha256 object fed with everything up to the weights; feed it the weights next."""
    encoded = canonical_json(document)
    h = hashlib.sha256(_DOMAIN)
    h.update(len(encoded).to_bytes(8, "big"))
    h.update(encoded)
    h.update(_WEIGHTS)
    return h


def content_sha256(document: dict[str, Any], weights: bytes) -> str:
    """The hex content digest of ``document`` and the weights member ``weights``."""
    h = content_hasher(document)
    h.update(weights)
    return h.hexdigest()


def is_hex_digest(value: Any) -> bool:
    """True for 64 lowercase hex digits."""
    return (isinstance(value, str) and len(value) == 64
            and all(c in "0123456789abcdef" for c in value))
