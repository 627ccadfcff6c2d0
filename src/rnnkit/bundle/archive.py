"""The zip layer of the reader: open the archive and stream its members, bounded.

:mod:`zipfile` builds a :class:`~zipfile.ZipInfo` for every entry of the central
directory as it opens an archive, so a file that claims millions of entries would cost
memory before any rnnkit check ran. :func:`open_archive` therefore reads the
end-of-central-directory record itself (the same record zipfile finds, including the
zip64 one) and refuses a central directory larger than
:data:`~rnnkit.bundle.limits.MAX_CENTRAL_DIRECTORY` or with more than
:data:`~rnnkit.bundle.limits.MAX_ENTRIES` entries. :func:`open_member` refuses a member
whose declared size is over its limit or whose compression ratio is that of a bomb,
before inflating a byte; :func:`read_capped` never returns more than it was asked for,
whatever the member's header claims.
"""

from __future__ import annotations

import os
import pathlib
import struct
import zipfile
import zlib
from typing import IO

from rnnkit.bundle import format as fmt, limits
from rnnkit.errors import BundleError, problem

ZIP_MAGIC = b"PK\x03\x04"
NOT_A_MODEL = "is not an rnnkit model file (a zip of rnnkit.json and weights.safetensors)"
RESAVE = "save the model again, or restore the file from a good copy"
NOT_RNNKIT = "the file is corrupt or not made by rnnkit; do not unpack it"
# Errors that zipfile and zlib raise for damaged archives and members.
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, struct.error,
              NotImplementedError, OSError)

_EOCD = struct.Struct("<4s4H2LH")          # end of central directory, 22 bytes
_EOCD64_LOCATOR = struct.Struct("<4sLQL")  # zip64 locator, 20 bytes
_EOCD64 = struct.Struct("<4sQ2H2L4Q")      # zip64 end of central directory, 56 bytes


def open_archive(path: pathlib.Path, name: str) -> zipfile.ZipFile:
    """The archive at ``path``, after checking it is a non-empty zip of few entries."""
    if not path.exists():
        raise BundleError(f"model file {name} does not exist (check the path; "
                          f"the working directory is {os.getcwd()!r})")
    if not path.is_file():
        raise BundleError(f"model file {name} is not a file (point to the .rnnkit file)")
    if path.stat().st_size == 0:
        raise BundleError(f"model file {name} is empty (0 bytes): the save was interrupted "
                          f"or the copy failed ({RESAVE})")
    try:
        with open(path, "rb") as f:
            entries, cd_size = _central_directory(f)
    except (OSError, struct.error) as err:
        raise _not_a_zip(path, name, err) from err
    if entries is None:
        raise _not_a_zip(path, name, "no end-of-central-directory record")
    if entries > limits.MAX_ENTRIES or cd_size > limits.MAX_CENTRAL_DIRECTORY:
        raise BundleError(problem(
            f"model file {name}: the archive lists too many members",
            expected=f"at most {limits.MAX_ENTRIES} entries in a central directory of at "
            f"most {fmt.human_size(limits.MAX_CENTRAL_DIRECTORY)}",
            got=f"{entries} entries in {fmt.human_size(cd_size)}", fix=NOT_RNNKIT))
    try:
        return zipfile.ZipFile(path)
    except ZIP_ERRORS as err:
        raise _not_a_zip(path, name, err) from err


def _central_directory(f: IO[bytes]) -> tuple[int | None, int]:
    """``(entries, central directory size)`` as the (zip64) end record states them,
    ``(None, 0)`` when there is none. Finds the record the way zipfile does."""
    size = f.seek(0, os.SEEK_END)
    start = max(size - _EOCD.size - 0xFFFF, 0)
    f.seek(start)
    tail = f.read()
    at = len(tail) - _EOCD.size
    if not (at >= 0 and tail[at:at + 4] == b"PK\x05\x06" and tail[-2:] == b"\0\0"):
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) - at < _EOCD.size:
            return None, 0
    _, _, _, _, entries, cd_size, _, _ = _EOCD.unpack_from(tail, at)
    here = start + at
    if here >= _EOCD64_LOCATOR.size:
        f.seek(here - _EOCD64_LOCATOR.size)
        locator = f.read(_EOCD64_LOCATOR.size)
        sig, _, offset, _ = _EOCD64_LOCATOR.unpack(locator)
        if sig == b"PK\x06\x07":
            f.seek(here - _EOCD64_LOCATOR.size - _EOCD64.size)
            record = f.read(_EOCD64.size)
            if len(record) == _EOCD64.size and record[:4] == b"PK\x06\x06":
                fields = _EOCD64.unpack(record)
                entries, cd_size = max(entries, fields[7]), max(cd_size, fields[8])
    return entries, cd_size


def _not_a_zip(path: pathlib.Path, name: str, err: object) -> BundleError:
    """'truncated or corrupt zip' when the file starts like a zip, else 'not a model'."""
    try:
        with open(path, "rb") as f:
            magic = f.read(len(ZIP_MAGIC))
    except OSError:
        magic = b""
    if magic == ZIP_MAGIC:
        return BundleError(f"model file {name} is a truncated or corrupt zip ({err}; "
                           f"{RESAVE})")
    return BundleError(f"{name} {NOT_A_MODEL}")


def member_info(zf: zipfile.ZipFile, member: str, name: str) -> zipfile.ZipInfo:
    """``member``'s entry after checking its declared size, compression ratio and flags."""
    try:
        info = zf.getinfo(member)
    except KeyError:
        raise BundleError(problem(f"model file {name}: member {member!r}",
                                  expected="present", got="missing", fix=RESAVE)) from None
    limit = fmt.MEMBER_LIMITS[member]
    if info.file_size > limit:
        raise BundleError(problem(
            f"model file {name}: member {member!r} is too large", expected=f"at most "
            f"{fmt.human_size(limit)}", got=fmt.human_size(info.file_size), fix=NOT_RNNKIT))
    if info.flag_bits & 0x1:
        raise BundleError(f"model file {name}: member {member!r} is encrypted; rnnkit "
                          f"never encrypts members ({RESAVE})")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise BundleError(problem(
            f"model file {name}: member {member!r} compression", expected="stored or "
            "deflated (what rnnkit writes)", got=f"zip method {info.compress_type}",
            fix=RESAVE))
    _check_ratio(info, member, name)
    return info


def _check_ratio(info: zipfile.ZipInfo, member: str, name: str) -> None:
    """Refuse a deflated member that would inflate like a bomb, before inflating it."""
    if info.compress_type == zipfile.ZIP_STORED:
        if info.compress_size != info.file_size:
            raise BundleError(problem(
                f"model file {name}: member {member!r} is stored but its sizes differ",
                expected=f"{info.file_size} bytes", got=f"{info.compress_size}",
                fix=NOT_RNNKIT))
        return
    if info.file_size <= limits.RATIO_FREE_BYTES:
        return
    most = limits.MAX_RATIO[member]
    ratio = info.file_size / max(info.compress_size, 1)
    if ratio > most:
        raise BundleError(problem(
            f"model file {name}: member {member!r} inflates too much (a zip bomb?)",
            expected=f"a compression ratio of at most {most:g}",
            got=f"{ratio:.0f} ({fmt.human_size(info.compress_size)} inflating to "
            f"{fmt.human_size(info.file_size)})", fix=NOT_RNNKIT))


def open_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> IO[bytes]:
    """A stream of ``info``'s uncompressed bytes; zipfile checks the CRC at its end."""
    try:
        return zf.open(info)
    except ZIP_ERRORS as err:
        raise corrupt(info.filename, name, err) from err


def read_capped(stream: IO[bytes], n: int, member: str, name: str) -> bytes:
    """Exactly ``n`` bytes from ``stream`` (never more), or a BundleError if it ends early."""
    try:
        data = stream.read(n)
    except ZIP_ERRORS as err:
        raise corrupt(member, name, err) from err
    if len(data) != n:
        raise BundleError(problem(f"model file {name}: member {member!r} ends early",
                                  expected=f"{n} more bytes", got=len(data), fix=RESAVE))
    return data


def expect_end(stream: IO[bytes], member: str, name: str) -> None:
    """Check ``stream`` is exhausted, which also makes zipfile verify the CRC."""
    try:
        extra = stream.read(1)
    except ZIP_ERRORS as err:
        raise corrupt(member, name, err) from err
    if extra:
        raise BundleError(problem(f"model file {name}: member {member!r} is longer than "
                                  "its contents say", expected="its end", got="more bytes",
                                  fix=RESAVE))


def corrupt(member: str, name: str, err: object) -> BundleError:
    return BundleError(f"model file {name}: member {member!r} is corrupt ({err}; {RESAVE})")
