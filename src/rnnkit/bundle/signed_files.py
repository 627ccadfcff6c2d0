"""Sign and verify model files on disk: :func:`sign_bundle`, :func:`verify_bundle`.

Signing first reads and verifies the whole file (:func:`~rnnkit.bundle.read_bundle`),
then rewrites it atomically with the ``signature`` key (and ``content_sha256``, which
files from older rnnkit lack) added to rnnkit.json; every other key and the weights
bytes are unchanged. The weights are copied in chunks and hashed on the way, so a file
changed between the check and the copy is refused instead of signed.
"""

from __future__ import annotations

import dataclasses
import os
import stat
import zipfile
from collections.abc import Iterable
from typing import Any

from rnnkit.bundle import limits, writer
from rnnkit.bundle.digest import CONTENT_KEY, SIGNATURE_KEY, content_hasher
from rnnkit.bundle.format import JSON_MEMBER, WEIGHTS_MEMBER
from rnnkit.bundle.jsonguard import loads_bounded
from rnnkit.bundle.reader import read_bundle
from rnnkit.bundle.signing import fingerprint, load_private_key, sign_entry
from rnnkit.errors import BundleError


@dataclasses.dataclass(frozen=True)
class Verification:
    """What :func:`verify_bundle` found: the content digest and the signer, if any."""

    content_sha256: str
    signed_by: str | None
    had_digest: bool  # False for a file from rnnkit before content_sha256

    def line(self, path: str) -> str:
        """One line for the command line."""
        digest = "digest ok" if self.had_digest else "weights digest ok (no content digest: " \
            "saved by an older rnnkit; rnnkit sign adds one)"
        who = f"signed by {self.signed_by}" if self.signed_by else "unsigned"
        return f"{path}: {digest}, {who} (content sha256 {self.content_sha256[:16]}...)"


def verify_bundle(path: str | os.PathLike, trusted_keys: Iterable[Any] | None = None
                  ) -> Verification:
    """Read and verify the whole file; with ``trusted_keys`` it must be signed by one.

    Raises:
        BundleError: any check of :func:`~rnnkit.bundle.read_bundle` fails.
    """
    bundle = read_bundle(path, trusted_keys=trusted_keys)
    with zipfile.ZipFile(path) as zf:
        had = CONTENT_KEY in _document(zf, path)
    return Verification(bundle.content_sha256, bundle.signed_by, had)


def sign_bundle(path: str | os.PathLike, private_key_path: str | os.PathLike) -> str:
    """Sign the model file at ``path`` in place with the Ed25519 key in
    ``private_key_path``; returns the key's fingerprint.

    Raises:
        BundleError: the file fails verification, the key is not an Ed25519 private
            key, or the file changed while it was being signed (it is then unchanged).
    """
    key = load_private_key(private_key_path)
    bundle = read_bundle(path)
    entry = sign_entry(key, bundle.content_sha256)
    with zipfile.ZipFile(path) as zf:
        document = _document(zf, path)
        document[CONTENT_KEY], document[SIGNATURE_KEY] = bundle.content_sha256, entry
        info = zf.getinfo(WEIGHTS_MEMBER)
        hasher = content_hasher(document)
        mode = stat.S_IMODE(os.stat(path).st_mode)  # the signed file keeps its permissions
        with zf.open(info) as weights:
            writer.atomic_write(path, lambda f: _write(f, document, weights, info.file_size,
                                                       hasher, bundle.content_sha256, mode))
    return fingerprint(key.public_key())


def _write(file, document, weights, size, hasher, expected: str, mode: int) -> None:
    writer.write_streamed(file, writer.document_bytes(document), weights, size, hasher.update)
    if hasattr(os, "fchmod"):
        os.fchmod(file.fileno(), mode)
    if hasher.hexdigest() != expected:
        raise BundleError("the model file changed while it was being signed; it was left "
                          "unchanged (sign it again)")


def _document(zf: zipfile.ZipFile, path: str | os.PathLike) -> dict[str, Any]:
    """rnnkit.json of a file read_bundle has just accepted (so within every limit)."""
    return loads_bounded(zf.read(JSON_MEMBER), f"model file {str(path)!r}: {JSON_MEMBER}",
                         max_depth=limits.MAX_DEPTH, max_containers=limits.MAX_CONTAINERS,
                         max_values=limits.MAX_VALUES)
