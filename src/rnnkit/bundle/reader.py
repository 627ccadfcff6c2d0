"""Read a model file: :func:`read_bundle`.

The file layout is described in :mod:`rnnkit.bundle.format`. Reading runs no code from
the file: the archive is read with :mod:`zipfile`, the header with :mod:`json` and the
tensors with safetensors (raw bytes plus a JSON header); nothing is unpickled.

Checks, in order, each failing with a :class:`~rnnkit.errors.BundleError` that says what
is wrong and what to do: the path is a non-empty zip; ``rnnkit.json`` is present, within
its size limit and a JSON object with ``"format": "rnnkit-bundle"``; its
``format_version`` is one this rnnkit reads (checked before the member list, so a newer
file that adds members still gets the "upgrade rnnkit" message); the archive holds
exactly the expected members; the required keys have the right types; the weights are
within their size limit, their CRC and sha256 match, and safetensors can parse them.
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import zipfile
import zlib
from typing import Any

import safetensors
import safetensors.torch

from rnnkit._version import __version__
from rnnkit.bundle.format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    JSON_MEMBER,
    MEMBER_LIMITS,
    MEMBERS,
    REQUIRED_KEYS,
    WEIGHTS_FORMAT,
    WEIGHTS_MEMBER,
    Bundle,
    human_size,
)
from rnnkit.errors import BundleError, problem

ZIP_MAGIC = b"PK\x03\x04"
NOT_A_MODEL = "is not an rnnkit model file (a zip of rnnkit.json and weights.safetensors)"
RESAVE = "save the model again, or restore the file from a good copy"
UPGRADE = "upgrade rnnkit: pip install -U rnnkit"


def read_bundle(path: str | os.PathLike) -> Bundle:
    """Read and verify the model file at ``path``; see the module docstring for the checks.

    Raises:
        BundleError: the file is missing, not a model file, corrupt, tampered with, or of
            a format version newer than this rnnkit reads.
    """
    path = pathlib.Path(path)
    name = repr(str(path))
    with _open_zip(path, name) as zf:
        document = _read_header(zf, name)
        _check_members(zf, name)
        weights = _read_member(zf, WEIGHTS_MEMBER, name)
    _check_digest(weights, document["weights_sha256"], name)
    return Bundle(
        task=document["task"],
        config=document["config"],
        tensors=_parse_weights(weights, name),
        preprocessing=document["preprocessing"],
        metrics=document["metrics"],
        format_version=document["format_version"],
        library_version=document["library_version"],
        created=document["created"],
    )


def _open_zip(path: pathlib.Path, name: str) -> zipfile.ZipFile:
    """The archive, after checking the path is a non-empty zip file."""
    if not path.exists():
        raise BundleError(f"model file {name} does not exist (check the path; "
                          f"the working directory is {os.getcwd()!r})")
    if not path.is_file():
        raise BundleError(f"model file {name} is not a file (point to the .rnnkit file)")
    if path.stat().st_size == 0:
        raise BundleError(f"model file {name} is empty (0 bytes): the save was interrupted "
                          f"or the copy failed ({RESAVE})")
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as err:
        with open(path, "rb") as f:
            magic = f.read(len(ZIP_MAGIC))
        if magic == ZIP_MAGIC:
            raise BundleError(f"model file {name} is a truncated or corrupt zip ({err}; "
                              f"{RESAVE})") from err
        raise BundleError(f"{name} {NOT_A_MODEL}") from err


def _read_member(zf: zipfile.ZipFile, member: str, name: str) -> bytes:
    """One member's bytes, refusing a missing, encrypted or oversized member."""
    try:
        info = zf.getinfo(member)
    except KeyError:
        raise BundleError(problem(f"model file {name}: member {member!r}",
                                  expected="present", got="missing", fix=RESAVE)) from None
    limit = MEMBER_LIMITS[member]
    if info.file_size > limit:
        raise BundleError(problem(
            f"model file {name}: member {member!r} is too large", expected=f"at most "
            f"{human_size(limit)}", got=human_size(info.file_size),
            fix="the file is corrupt or not made by rnnkit; do not unpack it"))
    if info.flag_bits & 0x1:
        raise BundleError(f"model file {name}: member {member!r} is encrypted; rnnkit "
                          f"never encrypts members ({RESAVE})")
    try:
        return zf.read(info)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as err:
        raise BundleError(f"model file {name}: member {member!r} is corrupt ({err}; "
                          f"{RESAVE})") from err


def _read_header(zf: zipfile.ZipFile, name: str) -> dict[str, Any]:
    """rnnkit.json as a dict, with its format, version and required keys checked."""
    if JSON_MEMBER not in zf.namelist():
        raise BundleError(f"{name} {NOT_A_MODEL}: it has no {JSON_MEMBER} "
                          f"(members: {zf.namelist()})")
    data = _read_member(zf, JSON_MEMBER, name)
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise BundleError(f"model file {name}: {JSON_MEMBER} is not valid JSON ({err}; "
                          f"{RESAVE})") from err
    if not isinstance(document, dict) or document.get("format") != FORMAT_NAME:
        got = document.get("format") if isinstance(document, dict) else type(document)
        raise BundleError(f"{name} {NOT_A_MODEL}: " + problem(
            f"{JSON_MEMBER} 'format'", expected=repr(FORMAT_NAME), got=repr(got)))
    _check_version(document, name)
    _check_keys(document, name)
    return document


def _check_version(document: dict[str, Any], name: str) -> None:
    """Refuse a format_version that is corrupt or newer than this rnnkit reads."""
    version = document.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BundleError(problem(f"model file {name}: {JSON_MEMBER} 'format_version'",
                                  expected="an int >= 1", got=repr(version), fix=RESAVE))
    if version > FORMAT_VERSION:
        writer = document.get("library_version", "an unknown version")
        raise BundleError(problem(
            f"model file {name} has format_version {version} (written by rnnkit {writer}), "
            f"newer than this rnnkit {__version__} reads",
            expected=f"format_version <= {FORMAT_VERSION}", got=version, fix=UPGRADE))


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
                                  got=repr(document["weights_format"]), fix=UPGRADE))


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


def _check_digest(weights: bytes, expected: str, name: str) -> None:
    got = hashlib.sha256(weights).hexdigest()
    if got != expected:
        raise BundleError(problem(
            f"model file {name}: weights digest mismatch: the file was modified or "
            f"corrupted after it was saved", expected=f"sha256 {expected}",
            got=f"sha256 {got}", fix=RESAVE))


def _parse_weights(weights: bytes, name: str) -> dict:
    try:
        return safetensors.torch.load(weights)
    except (safetensors.SafetensorError, ValueError, RuntimeError) as err:
        raise BundleError(f"model file {name}: {WEIGHTS_MEMBER} could not be parsed as "
                          f"safetensors ({err}; {RESAVE})") from err
