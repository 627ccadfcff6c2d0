"""Ed25519 signatures of model files: who saved this file, not only that it is intact.

A digest stored beside the data proves integrity, not origin: anyone who edits a file
can recompute it. A signature by a private key that only the model's publisher holds
proves origin to whoever trusts the matching public key. The scheme is Ed25519 from the
``cryptography`` package (no home-made crypto). rnnkit.json then holds::

    "signature": {"scheme": "ed25519", "public_key": "<64 hex>", "value": "<128 hex>"}

``value`` signs ``b"rnnkit-bundle/signature/ed25519/v1\\n"`` followed by the 32 bytes of
``content_sha256``, which covers everything else in the file. The embedded public key
only says *which* key signed; trust comes from the keys the reader is given. Keys are
files: a private key in PKCS#8 PEM (mode 0600) and its public key in PEM (``.pub``); a
key's fingerprint is ``ed25519:`` and the first 16 hex digits of sha256(raw public key).
"""

from __future__ import annotations

import hashlib
import os
import pathlib
from collections.abc import Iterable
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from rnnkit.bundle.digest import SIGNATURE_KEY
from rnnkit.errors import BundleError, problem

SCHEME = "ed25519"
_DOMAIN = b"rnnkit-bundle/signature/ed25519/v1\n"
_RAW = (serialization.Encoding.Raw, serialization.PublicFormat.Raw)
_KEY_FILE_LIMIT = 64 * 1024


def fingerprint(key: Ed25519PublicKey) -> str:
    """``"ed25519:<16 hex>"``: a short name for a public key."""
    return f"{SCHEME}:{hashlib.sha256(key.public_bytes(*_RAW)).hexdigest()[:16]}"


def generate_key(path: str | os.PathLike) -> tuple[pathlib.Path, pathlib.Path]:
    """Write a new private key to ``path`` (PEM, mode 0600) and its public key to
    ``path.pub``; refuse to overwrite either. Returns both paths."""
    private = pathlib.Path(path)
    public = private.with_name(private.name + ".pub")
    for target in (private, public):
        if target.exists():
            raise BundleError(problem(f"keygen: {str(target)!r}", expected="a new file",
                                      got="it exists", fix="choose another path; rnnkit "
                                      "never overwrites a key"))
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    public.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public


def load_private_key(path: str | os.PathLike) -> Ed25519PrivateKey:
    """The Ed25519 private key in the PEM file ``path``."""
    data = _key_bytes(path, "private key")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as err:
        raise BundleError(problem(f"private key {str(path)!r}", expected="an unencrypted "
                                  "PEM private key (rnnkit keygen writes one)",
                                  got=str(err)[:120], fix="pass the key written by rnnkit "
                                  "keygen, not its .pub")) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise BundleError(problem(f"private key {str(path)!r}", expected="an Ed25519 key",
                                  got=type(key).__name__, fix="create one: rnnkit keygen"))
    return key


def load_public_key(key: Any) -> Ed25519PublicKey:
    """An Ed25519 public key from a key object or a PEM / OpenSSH public key file."""
    if isinstance(key, Ed25519PublicKey):
        return key
    if not isinstance(key, (str, os.PathLike)):
        raise BundleError(problem("trusted key", expected="a path of a .pub file or an "
                                  "Ed25519PublicKey", got=type(key).__name__))
    data = _key_bytes(key, "public key")
    try:
        loaded = (serialization.load_ssh_public_key(data) if data.startswith(b"ssh-")
                  else serialization.load_pem_public_key(data))
    except (ValueError, TypeError) as err:
        raise BundleError(problem(f"public key {str(key)!r}", expected="a PEM or OpenSSH "
                                  "public key (rnnkit keygen writes PATH.pub)",
                                  got=str(err)[:120], fix="pass the .pub file")) from None
    if not isinstance(loaded, Ed25519PublicKey):
        raise BundleError(problem(f"public key {str(key)!r}", expected="an Ed25519 key",
                                  got=type(loaded).__name__, fix="create one: rnnkit keygen"))
    return loaded


def load_trusted_keys(keys: Iterable[Any] | None) -> list[Ed25519PublicKey]:
    """Every trusted key loaded (a single path or key is accepted as a list of one)."""
    if keys is None:
        return []
    if isinstance(keys, (str, os.PathLike, Ed25519PublicKey)):
        keys = [keys]
    return [load_public_key(k) for k in keys]


def _key_bytes(path: str | os.PathLike, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            data = f.read(_KEY_FILE_LIMIT + 1)
    except OSError as err:
        raise BundleError(problem(f"{what} {str(path)!r}", expected="a readable file",
                                  got=err.strerror or type(err).__name__,
                                  fix="check the path")) from None
    if len(data) > _KEY_FILE_LIMIT:
        raise BundleError(problem(f"{what} {str(path)!r}", expected="a key file of a few "
                                  "hundred bytes", got="more than 64 KiB"))
    return data


def sign_entry(key: Ed25519PrivateKey, content_sha256: str) -> dict[str, str]:
    """The ``signature`` value of a file whose content digest is ``content_sha256``."""
    return {"scheme": SCHEME, "public_key": key.public_key().public_bytes(*_RAW).hex(),
            "value": key.sign(_DOMAIN + bytes.fromhex(content_sha256)).hex()}


def precheck(document: dict[str, Any], trusted: list[Ed25519PublicKey],
             name: str) -> Ed25519PublicKey | None:
    """Before the weights are read: the signature is well formed and, with trusted
    keys, present and by one of them. Returns the key to verify with (None: unsigned)."""
    entry = document.get(SIGNATURE_KEY)
    if entry is None:
        if trusted:
            raise BundleError(problem(
                f"model file {name} is not signed", expected="a signature by one of the "
                f"{len(trusted)} trusted key(s)", got="none",
                fix="sign it with the publisher's key: rnnkit sign MODEL --key PRIVATE"))
        return None
    embedded = _embedded_key(entry, name)
    if not trusted:
        return embedded
    raw = embedded.public_bytes(*_RAW)
    for key in trusted:
        if key.public_bytes(*_RAW) == raw:
            return key
    raise BundleError(problem(
        f"model file {name} is signed by an untrusted key", expected="one of "
        + ", ".join(fingerprint(k) for k in trusted[:5]), got=fingerprint(embedded),
        fix="pass the signer's .pub as a trusted key if you trust it"))


def _embedded_key(entry: Any, name: str) -> Ed25519PublicKey:
    fields = {"scheme", "public_key", "value"}
    if (not isinstance(entry, dict) or set(entry) != fields
            or not all(isinstance(entry[k], str) for k in fields)):
        raise BundleError(problem(f"model file {name}: rnnkit.json 'signature'",
                                  expected='{"scheme", "public_key", "value"} strings',
                                  got=repr(entry)[:100], fix="sign the file again"))
    if entry["scheme"] != SCHEME:
        raise BundleError(problem(f"model file {name}: signature scheme",
                                  expected=repr(SCHEME), got=repr(entry["scheme"])[:40],
                                  fix="upgrade rnnkit, or sign the file again"))
    try:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(entry["public_key"]))
    except ValueError:
        raise BundleError(problem(f"model file {name}: signature public_key",
                                  expected="64 hex digits (an Ed25519 key)",
                                  got=repr(entry["public_key"])[:80],
                                  fix="sign the file again")) from None


def verify(document: dict[str, Any], content_sha256: str, key: Ed25519PublicKey | None,
           name: str) -> str | None:
    """Check the signature over ``content_sha256``; the signer's fingerprint, or None."""
    if key is None:
        return None
    if document.get("content_sha256") is None:
        raise BundleError(f"model file {name} has a signature but no content_sha256, so "
                          f"the signature covers nothing (sign the file again)")
    try:
        key.verify(bytes.fromhex(document[SIGNATURE_KEY]["value"]),
                   _DOMAIN + bytes.fromhex(content_sha256))
    except (InvalidSignature, ValueError):
        raise BundleError(problem(
            f"model file {name}: the signature does not match the contents: the file was "
            f"modified after it was signed, or the signature was copied from another file",
            expected=f"a valid signature by {fingerprint(key)}", got="an invalid one",
            fix="restore the file from the publisher, or sign it again")) from None
    return fingerprint(key)
