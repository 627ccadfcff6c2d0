"""Read a model file: :func:`read_bundle`.

The file layout is described in :mod:`rnnkit.bundle.format`. Reading runs no code from
the file: the archive is read with :mod:`zipfile`, JSON with :mod:`json` and the tensors
as raw bytes; nothing is unpickled. Every size is checked before the memory it costs is
allocated (the limits and their reasons are in :mod:`rnnkit.bundle.limits`).

Checks, in order, each failing with one :class:`~rnnkit.errors.BundleError` line that
says what is wrong and what to do: the path is a non-empty zip whose central directory
is small (:mod:`rnnkit.bundle.archive`); ``rnnkit.json`` is present, within its size and
compression-ratio limits, of bounded nesting and container count
(:mod:`rnnkit.bundle.jsonguard`), a JSON object with ``"format": "rnnkit-bundle"``; its
``format_version`` is one this rnnkit reads (checked before the member list, so a newer
file that adds members still gets the "upgrade rnnkit" message); the archive holds
exactly the expected members; the required keys have the right types; ``config`` and
``metrics`` are within their size limits; with ``trusted_keys``, the file is signed by
one of them; the safetensors header is well formed and tiles the member exactly
(:mod:`rnnkit.bundle.safetensors_header`); ``check`` accepts the tensor specs; then the
data is read (once, into one buffer, hashed on the way), its CRC, ``weights_sha256``,
``content_sha256`` (when present: files from rnnkit before it lack it) and signature
(when present) match, and every float tensor is finite.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pathlib
import zipfile
from collections.abc import Callable, Iterable
from typing import Any

from rnnkit._version import __version__
from rnnkit.bundle import archive, digest, limits, signing
from rnnkit.bundle.archive import NOT_A_MODEL, RESAVE
from rnnkit.bundle.format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    JSON_MEMBER,
    MEMBERS,
    REQUIRED_KEYS,
    WEIGHTS_FORMAT,
    WEIGHTS_MEMBER,
    Bundle,
    human_size,
)
from rnnkit.bundle.jsonguard import loads_bounded
from rnnkit.bundle.safetensors_header import Layout, header_length, make_tensors, parse_header
from rnnkit.bundle.tensorspec import TensorSpec
from rnnkit.errors import BundleError, problem

UPGRADE = "upgrade rnnkit: pip install -U rnnkit"
CHUNK = 1 << 20
Check = Callable[[Bundle, dict[str, TensorSpec]], None]


def read_bundle(path: str | os.PathLike, *, trusted_keys: Iterable[Any] | None = None,
                check: Check | None = None) -> Bundle:
    """Read and verify the model file at ``path``; see the module docstring for the checks.

    Args:
        trusted_keys: Ed25519 public keys (paths of ``.pub`` files written by
            ``rnnkit keygen``, or ``cryptography`` ``Ed25519PublicKey`` objects). When
            non-empty, the file must carry a valid signature by one of them.
        check: ``check(meta, specs)`` is called after rnnkit.json and the safetensors
            header are read and checked and before any tensor data is read
            (``meta.tensors`` is ``{}``); it raises BundleError to refuse the file.

    Raises:
        BundleError: the file is missing, not a model file, corrupt, tampered with, over
            a size limit, not signed by a trusted key, refused by ``check``, or of a
            format version newer than this rnnkit reads.
    """
    path = pathlib.Path(path)
    name = repr(str(path))
    keys = signing.load_trusted_keys(trusted_keys)
    with archive.open_archive(path, name) as zf:
        document = _read_header(zf, name)
        _check_members(zf, name)
        trusted = signing.precheck(document, keys, name)
        meta = _meta(document)
        with _Weights(zf, name) as weights:
            if check is not None:
                check(meta, dict(weights.layout.specs))
            buffer = weights.read_data(document)
    content = _check_digests(document, weights, name)
    signed_by = signing.verify(document, content, trusted, name)
    tensors = make_tensors(buffer, weights.layout, name)
    return dataclasses.replace(meta, tensors=tensors, content_sha256=content,
                               signed_by=signed_by)


def _meta(document: dict[str, Any]) -> Bundle:
    """The Bundle without tensors, as ``check`` sees it."""
    return Bundle(task=document["task"], config=document["config"], tensors={},
                  preprocessing=document["preprocessing"], metrics=document["metrics"],
                  format_version=document["format_version"],
                  library_version=document["library_version"], created=document["created"])


def _read_header(zf: zipfile.ZipFile, name: str) -> dict[str, Any]:
    """rnnkit.json as a dict, with its format, version and required keys checked."""
    if JSON_MEMBER not in zf.namelist():
        raise BundleError(f"{name} {NOT_A_MODEL}: it has no {JSON_MEMBER} "
                          f"(members: {zf.namelist()[:limits.MAX_ENTRIES]})")
    info = archive.member_info(zf, JSON_MEMBER, name)
    with archive.open_member(zf, info, name) as stream:
        data = archive.read_capped(stream, info.file_size, JSON_MEMBER, name)
        archive.expect_end(stream, JSON_MEMBER, name)
    document = loads_bounded(data, f"model file {name}: {JSON_MEMBER}",
                             max_depth=limits.MAX_DEPTH, max_containers=limits.MAX_CONTAINERS,
                             max_values=limits.MAX_VALUES)
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        got = document.get("format") if isinstance(document, dict) else type(document)
        raise BundleError(f"{name} {NOT_A_MODEL}: " + problem(
            f"{JSON_MEMBER} 'format'", expected=repr(FORMAT_NAME), got=repr(got)[:100]))
    _check_version(document, name)
    _check_keys(document, name)
    _check_sections(document, name)
    return document


def _check_version(document: dict[str, Any], name: str) -> None:
    """Refuse a format_version that is corrupt or newer than this rnnkit reads."""
    version = document.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BundleError(problem(f"model file {name}: {JSON_MEMBER} 'format_version'",
                                  expected="an int >= 1", got=repr(version)[:100], fix=RESAVE))
    if version > FORMAT_VERSION:
        writer = str(document.get("library_version", "an unknown version"))[:40]
        shown = version if version < 10**12 else "a huge number"
        raise BundleError(problem(
            f"model file {name} has format_version {shown} (written by rnnkit {writer}), "
            f"newer than this rnnkit {__version__} reads",
            expected=f"format_version <= {FORMAT_VERSION}", got=shown, fix=UPGRADE))


def _check_keys(document: dict[str, Any], name: str) -> None:
    """Every required key present with its JSON type, and a safetensors weights member."""
    for key, kind in REQUIRED_KEYS.items():
        if key not in document:
            raise BundleError(problem(f"model file {name}: {JSON_MEMBER} key {key!r}",
                                      expected="present", got="missing", fix=RESAVE))
        if not isinstance(document[key], kind):
            raise BundleError(problem(
                f"model file {name}: {JSON_MEMBER} key {key!r}", expected=kind.__name__,
                got=type(document[key]).__name__, fix=RESAVE))
    if document["weights_format"] != WEIGHTS_FORMAT:
        raise BundleError(problem(f"model file {name}: weights_format",
                                  expected=repr(WEIGHTS_FORMAT),
                                  got=repr(document["weights_format"])[:100], fix=UPGRADE))
    for key in ("weights_sha256", digest.CONTENT_KEY):
        if key in document and not digest.is_hex_digest(document[key]):
            raise BundleError(problem(f"model file {name}: {JSON_MEMBER} key {key!r}",
                                      expected="64 lowercase hex digits",
                                      got=repr(document[key])[:80], fix=RESAVE))


def _check_sections(document: dict[str, Any], name: str) -> None:
    """config and metrics within their size limits (metrics is served over HTTP)."""
    for key, most in limits.SECTION_LIMITS.items():
        size = len(digest.canonical_json({key: document[key]}))
        if size > most:
            raise BundleError(problem(
                f"model file {name}: {JSON_MEMBER} section {key!r} is too large",
                expected=f"at most {human_size(most)}", got=human_size(size),
                fix="the file is corrupt or not made by rnnkit"))


def _check_members(zf: zipfile.ZipFile, name: str) -> None:
    """Exactly the expected members, each once."""
    names = zf.namelist()
    missing = [m for m in MEMBERS if m not in names]
    if missing:
        raise BundleError(problem(f"model file {name}: member {missing[0]!r} is missing",
                                  expected=f"members {list(MEMBERS)}", got=names, fix=RESAVE))
    extra = sorted(set(names) - set(MEMBERS))
    if extra or len(names) != len(set(names)):
        raise BundleError(problem(
            f"model file {name}: unexpected extra or duplicate members",
            expected=f"exactly {list(MEMBERS)}", got=names,
            fix="rnnkit refuses files with other content; save the model again with "
            "rnnkit instead of editing the archive"))


class _Weights:
    """weights.safetensors as a stream: the header on entering, the data on request."""

    def __init__(self, zf: zipfile.ZipFile, name: str):
        self.name = name
        self.info = archive.member_info(zf, WEIGHTS_MEMBER, name)
        self.stream = archive.open_member(zf, self.info, name)
        self.sha = hashlib.sha256()
        self.content = None

    def __enter__(self) -> _Weights:
        size = self.info.file_size
        if size < 8:
            raise self._drained(BundleError(
                f"model file {self.name}: {WEIGHTS_MEMBER} could not be parsed as "
                f"safetensors (it holds {size} bytes, fewer than its 8-byte header "
                f"length; {RESAVE})"))
        prefix = self._read(8)
        n = self._header(lambda: header_length(prefix, size, self.name))
        raw = self._read(n)
        self.layout: Layout = self._header(lambda: parse_header(raw, size - 8 - n, self.name))
        self._pending = prefix + raw
        return self

    def __exit__(self, *exc) -> None:
        self.stream.close()

    def read_data(self, document: dict[str, Any]) -> bytearray:
        """The tensor data, read once into one buffer and hashed on the way."""
        self.content = digest.content_hasher(document)
        self._hash(self._pending)
        buffer = bytearray(self.layout.data_size)
        view, at = memoryview(buffer), 0
        while at < len(buffer):
            chunk = self._read(min(CHUNK, len(buffer) - at))
            view[at:at + len(chunk)] = chunk
            self._hash(chunk)
            at += len(chunk)
        archive.expect_end(self.stream, WEIGHTS_MEMBER, self.name)
        return buffer

    def _hash(self, data: bytes) -> None:
        self.sha.update(data)
        self.content.update(data)

    def _read(self, n: int) -> bytes:
        return archive.read_capped(self.stream, n, WEIGHTS_MEMBER, self.name)

    def _header(self, parse: Callable[[], Any]) -> Any:
        try:
            return parse()
        except BundleError as err:
            raise self._drained(err) from None

    def _drained(self, err: BundleError) -> BundleError:
        """A damaged member (bad CRC) is reported as that, not as a bad header: read to
        the end in small chunks, keeping nothing, and prefer zipfile's complaint."""
        try:
            while self.stream.read(CHUNK):
                pass
        except archive.ZIP_ERRORS as zip_err:
            return archive.corrupt(WEIGHTS_MEMBER, self.name, zip_err)
        return err


def _check_digests(document: dict[str, Any], weights: _Weights, name: str) -> str:
    """The weights digest, then the content digest; returns the content digest."""
    got = weights.sha.hexdigest()
    if got != document["weights_sha256"]:
        raise BundleError(problem(
            f"model file {name}: weights digest mismatch: the file was modified or "
            f"corrupted after it was saved", expected=f"sha256 {document['weights_sha256']}",
            got=f"sha256 {got}", fix=RESAVE))
    content = weights.content.hexdigest()
    stored = document.get(digest.CONTENT_KEY)
    if stored is not None and stored != content:
        raise BundleError(problem(
            f"model file {name}: content digest mismatch: {JSON_MEMBER} (config, "
            f"preprocessing or metrics) was modified after it was saved",
            expected=f"content_sha256 {stored}", got=f"{content}", fix=RESAVE))
    return content
