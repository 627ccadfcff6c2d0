"""Write and read ``checkpoint.pt`` safely.

The file is written atomically: to a temporary file in the same directory, flushed and
fsync'ed, then ``os.replace``'d over the old one, so a kill at any moment leaves either the
old checkpoint or the new one, never half of one. It holds only tensors and plain Python
values, and is read with ``torch.load(weights_only=True)``, which runs no pickled code.

A writer killed mid-write (``kill -9``) leaves its temporary file behind:
``.checkpoint.pt.<random>.tmp``. The writer holds an exclusive ``flock`` on it while it
exists, so :func:`remove_stale_temp_files`, called when a run starts, removes only such
files that no live process holds and that nobody has written for :data:`STALE_AFTER_S`
seconds; a second run writing into the same folder keeps its own.

A file that is not a checkpoint this code wrote — empty, cut short, garbage, a raw pickle,
a pickle naming code to run, another program's archive, a newer format — is one
:class:`~rnnkit.errors.BundleError` line from :func:`load_checkpoint`, never a traceback;
nothing in it is executed (a file that is not a zip archive is refused before torch reads
it, and the zip's pickle goes through torch's weights-only unpickler).
"""

from __future__ import annotations

import os
import pickle
import re
import tempfile
import time
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch

from rnnkit.errors import BundleError, problem

try:  # POSIX; elsewhere stale files are told by their age alone
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

CHECKPOINT_NAME = "checkpoint.pt"
FORMAT_VERSION = 1
STALE_AFTER_S = 5.0  # an unlocked temp file untouched this long has no live writer
UNLOCKABLE_STALE_AFTER_S = 3600.0  # where locks cannot be taken (no flock): age alone
FIX = ("resume from an earlier copy of the checkpoint, or start afresh: run again without "
       "--resume (fit(resume=False)), which overwrites it")


def _temp_prefix(name: str) -> str:
    return f".{name}."


def temp_file_pattern(name: str = CHECKPOINT_NAME) -> re.Pattern:
    """The names :func:`save_checkpoint` gives its temporary files for checkpoint ``name``:
    ``.<name>.<mkstemp's 8 random characters>.tmp``; nothing else is ever cleaned."""
    return re.compile(re.escape(_temp_prefix(name)) + r"[a-z0-9_]{8}\.tmp")


def save_checkpoint(payload: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write ``payload`` to ``path`` atomically (temp file, flush, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path.name), suffix=".tmp", dir=path.parent)
    try:
        try:
            _lock(fd)  # held until the file is closed: tells a cleaner this writer is alive
        except OSError:
            pass  # no locks here: cleaners go by the file's age alone
        with os.fdopen(fd, "wb") as f:
            torch.save({"format_version": FORMAT_VERSION, **payload}, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a checkpoint is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)
    return path


def _lock(fd: int) -> bool:
    """Take an exclusive lock on ``fd`` without waiting; False when another process holds
    it. Where locks are not supported (no fcntl, some network file systems) it raises OSError."""
    if fcntl is None:
        raise OSError("file locks are not supported here")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def remove_stale_temp_files(directory: str | os.PathLike, name: str = CHECKPOINT_NAME,
                            older_than_s: float = STALE_AFTER_S) -> list[Path]:
    """Remove the temporary files a killed writer of checkpoint ``name`` left in
    ``directory``; returns the removed paths.

    Removed: regular files named as :func:`temp_file_pattern` says, untouched for
    ``older_than_s`` seconds and not locked by a live writer (checked by taking the lock,
    held while unlinking). Where locks are not supported, only files untouched for
    :data:`UNLOCKABLE_STALE_AFTER_S`. Kept: anything else, in particular another run's
    checkpoint being written into the same folder now.
    """
    directory, pattern, removed = Path(directory), temp_file_pattern(name), []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if not pattern.fullmatch(entry.name) or not entry.is_file(follow_symlinks=False):
            continue
        try:
            if now - entry.stat(follow_symlinks=False).st_mtime < older_than_s:
                continue
            if _remove_if_unlocked(Path(entry.path), now, older_than_s):
                removed.append(Path(entry.path))
        except OSError:
            continue  # gone meanwhile, or not ours to remove: leave it
    return removed


def _remove_if_unlocked(path: Path, now: float, older_than_s: float) -> bool:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    try:
        try:
            if not _lock(fd):
                return False  # a live writer holds it
        except OSError:
            if now - os.fstat(fd).st_mtime < max(older_than_s, UNLOCKABLE_STALE_AFTER_S):
                return False
        os.unlink(path)
        return True
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    # Make the rename itself durable; not every platform can open a directory.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_checkpoint(path: str | os.PathLike, device: torch.device | str = "cpu") -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`, tensors mapped to ``device``.

    Anything else is one :class:`BundleError` line (what, expected, got, fix); see the
    module docstring."""
    path = Path(path)
    _check_zip(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's notes on pickle protocols: not the user's
            ckpt = torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as err:
        named = re.search(r"GLOBAL ([\w.]+)", str(err))
        what = f"the code {named.group(1)}" if named else "objects a checkpoint never holds"
        raise _bad(path, f"a pickle that names {what} (refused unread; nothing in it was run)") from None
    except (RuntimeError, EOFError, ValueError, OSError, KeyError, IndexError, zipfile.BadZipFile,
            AttributeError, TypeError) as err:
        raise _bad(path, f"a file torch cannot read: {_first_sentence(err)}") from None
    if not isinstance(ckpt, dict) or "format_version" not in ckpt:
        raise _bad(path, f"another program's file (a torch {type(ckpt).__name__} without "
                         "rnnkit's format_version)")
    version = ckpt["format_version"]
    if type(version) is not int or not 1 <= version <= FORMAT_VERSION:
        raise _bad(path, f"format_version {str(version)[:40]} (this rnnkit reads "
                         f"{FORMAT_VERSION}; a newer rnnkit wrote it, or it is not rnnkit's)")
    return ckpt


def _check_zip(path: Path) -> None:
    """torch writes a zip archive; anything else (a raw pickle above all) is refused before
    torch reads it, so no legacy unpickling path is ever taken."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except IsADirectoryError:
        raise _bad(path, "a directory") from None
    except OSError as err:
        raise BundleError(problem(f"checkpoint {str(path)!r}", expected="a readable file",
                                  got=f"{type(err).__name__}: {err.strerror or err}",
                                  fix="check the path and its permissions")) from None
    if head == b"PK\x03\x04":
        _check_members(path)
        return
    if not head:
        got = "an empty file (0 bytes): the write that made it was cut short"
    elif head[:1] == b"\x80":
        got = "a raw pickle, not torch's zip archive (refused unread; nothing in it was run)"
    else:
        got = f"a file that starts with {head!r}, not a zip archive"
    raise _bad(path, got)


def _check_members(path: Path) -> None:
    """A zip archive whose directory reads, with torch's ``<archive>/data.pkl`` in it."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError):
        raise _bad(path, "a zip archive cut short or damaged (its directory does not read): the "
                         "write that made it was interrupted, or the copy is incomplete") from None
    if not any(n.count("/") == 1 and n.endswith("/data.pkl") for n in names):
        shown = ", ".join(repr(n[:60]) for n in names[:3]) + (", ..." if len(names) > 3 else "")
        raise _bad(path, f"a zip archive without torch's data.pkl, another program's file "
                         f"(it holds {shown or 'nothing'})")


def _bad(path: Path, got: str) -> BundleError:
    return BundleError(problem(f"checkpoint {str(path)!r}", expected="a training checkpoint "
                               "written by rnnkit (a torch zip archive)", got=got, fix=FIX))


def _first_sentence(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    text = re.sub(r"^\[enforce fail at [^\]]*\]\s*\.?\s*", "", text)
    return re.split(r"(?<=[a-z\)])\. ", text, maxsplit=1)[0][:160]
