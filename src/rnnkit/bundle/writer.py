"""Write a model file: :func:`save_bundle`.

The file layout is described in :mod:`rnnkit.bundle.format`. Everything is serialised in
memory first (so a bad config fails before the disk is touched), then written to a
temporary file next to the target, flushed, fsynced and moved over the target with
``os.replace``: a reader sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import pathlib
import secrets
import warnings
import zipfile
from collections.abc import Mapping
from typing import IO, Any, Callable

import numpy as np
import safetensors.torch
import torch

from rnnkit._version import __version__
from rnnkit.bundle.digest import CONTENT_KEY, content_sha256
from rnnkit.bundle.format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    JSON_MEMBER,
    SUFFIX,
    WEIGHTS_FORMAT,
    WEIGHTS_MEMBER,
    Bundle,
)
from rnnkit.errors import BundleError, problem

PathLike = str | os.PathLike


def save_bundle(
    path: PathLike,
    bundle: Bundle | None = None,
    *,
    task: str | None = None,
    config: Mapping[str, Any] | None = None,
    tensors: Mapping[str, torch.Tensor] | None = None,
    preprocessing: Mapping[str, Any] | None = None,
    metrics: Mapping[str, Any] | None = None,
) -> pathlib.Path:
    """Save a model file atomically and return its path.

    Pass either a :class:`Bundle` or the fields ``task``, ``config``, ``tensors`` (and
    optionally ``preprocessing``, ``metrics``). The file always gets this library's
    ``format_version``, ``library_version`` and the current time as ``created``.

    JSON sections may hold numpy scalars and arrays and torch tensors (written as
    numbers and lists) and tuples (written as lists); dict keys must be ``str``.
    Tensors are copied to contiguous CPU memory; tensors that share storage (tied
    weights) are written as independent copies.

    Raises:
        BundleError: a value is not serialisable or the file cannot be written; an
            existing file at ``path`` is then left untouched.
    """
    bundle = _as_bundle(bundle, task, config, tensors, preprocessing, metrics)
    path = pathlib.Path(path)
    _check_target(path)
    if path.suffix != SUFFIX:
        warnings.warn(f"saving a model file as {str(path)!r}: rnnkit model files "
                      f"usually end in {SUFFIX!r}", UserWarning, stacklevel=2)
    created = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    weights = _weights_bytes(bundle.tensors)
    header = document_bytes(_document(bundle, created, weights))
    _atomic_write(path, lambda f: _write_zip(f, header, weights))
    return path


def _as_bundle(bundle, task, config, tensors, preprocessing, metrics) -> Bundle:
    """One Bundle from either a Bundle or the separate fields."""
    fields = (task, config, tensors, preprocessing, metrics)
    if bundle is not None:
        if any(f is not None for f in fields):
            raise TypeError("save_bundle: pass either a Bundle or task=/config=/tensors=, "
                            "not both")
        return bundle
    if task is None or config is None or tensors is None:
        raise TypeError("save_bundle: task=, config= and tensors= are required when no "
                        "Bundle is given")
    return Bundle(task=task, config=dict(config), tensors=dict(tensors),
                  preprocessing=dict(preprocessing or {}), metrics=dict(metrics or {}))


def to_json_value(value: Any, where: str) -> Any:
    """``value`` as plain JSON types; ``where`` (e.g. ``"config['lr']"``) names it in errors."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (np.generic, np.ndarray, torch.Tensor)):
        return to_json_value(value.tolist(), where)  # np.generic.tolist() is .item()
    for plain in (int, float, str):
        if isinstance(value, plain):
            return plain(value)
    if isinstance(value, (list, tuple)):
        return [to_json_value(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, Mapping):
        return {_json_key(k, where): to_json_value(v, f"{where}[{k!r}]")
                for k, v in value.items()}
    raise BundleError(problem(
        where, expected="a JSON-serialisable value (dict, list, str, int, float, bool, "
        "None, numpy scalar or array)", got=type(value),
        fix="convert it to one of these before saving"))


def _json_key(key: Any, where: str) -> str:
    """A dict key, which JSON allows only as str (json.dumps would silently str() it)."""
    if isinstance(key, str):
        return str(key)
    raise BundleError(problem(
        f"{where}: dict key {key!r}", expected="a str key", got=type(key),
        fix="convert the keys with str() and back when loading, or store a list"))


def _document(bundle: Bundle, created: str, weights: bytes) -> dict[str, Any]:
    """The rnnkit.json document, with both digests (see :mod:`rnnkit.bundle.digest`)."""
    if not isinstance(bundle.task, str) or not bundle.task:
        raise BundleError(problem("task", expected="a non-empty str", got=repr(bundle.task)))
    document = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "task": bundle.task,
        "config": _section(bundle.config, "config"),
        "preprocessing": _section(bundle.preprocessing, "preprocessing"),
        "metrics": _section(bundle.metrics, "metrics"),
        "library_version": __version__,
        "created": created,
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
        "weights_format": WEIGHTS_FORMAT,
    }
    document[CONTENT_KEY] = content_sha256(document, weights)
    return document


def document_bytes(document: dict[str, Any]) -> bytes:
    """The rnnkit.json member as written: indented UTF-8 JSON."""
    return json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")


def _section(value: Any, name: str) -> dict[str, Any]:
    """A top-level JSON section, which must be a dict."""
    if not isinstance(value, Mapping):
        raise BundleError(problem(name, expected="a dict", got=type(value)))
    return to_json_value(value, name)


def _weights_bytes(tensors: Mapping[str, torch.Tensor]) -> bytes:
    """The weights.safetensors member: every tensor as its own contiguous CPU copy."""
    if not isinstance(tensors, Mapping):
        raise BundleError(problem("tensors", expected="a dict of name -> torch.Tensor",
                                  got=type(tensors)))
    copies = {_tensor_name(name): _tensor_copy(name, t) for name, t in tensors.items()}
    try:
        return safetensors.torch.save(copies, metadata={"format": "pt"})
    except Exception as err:  # safetensors raises its own and builtin error types
        raise BundleError(f"tensors: safetensors could not serialise them: {err}") from err


def _tensor_name(name: Any) -> str:
    if isinstance(name, str) and name:
        return name
    raise BundleError(problem("tensors: tensor name", expected="a non-empty str",
                              got=repr(name)))


def _tensor_copy(name: str, tensor: Any) -> torch.Tensor:
    """A contiguous CPU copy that shares storage with nothing (safetensors refuses sharing)."""
    if not isinstance(tensor, torch.Tensor):
        raise BundleError(problem(f"tensors[{name!r}]", expected="a torch.Tensor",
                                  got=type(tensor)))
    try:
        return tensor.detach().to("cpu").clone(memory_format=torch.contiguous_format)
    except (RuntimeError, NotImplementedError) as err:
        raise BundleError(problem(
            f"tensors[{name!r}]", expected="a dense tensor that can be copied to the CPU",
            got=f"layout={tensor.layout}, device={tensor.device} ({err})",
            fix="convert it with .to_dense() or materialise it first")) from err


def _write_zip(file, header: bytes, weights: bytes) -> None:
    """The zip archive: rnnkit.json deflated, weights stored (they hardly compress)."""
    with zipfile.ZipFile(file, "w") as zf:
        zf.writestr(_member(JSON_MEMBER), header, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr(_member(WEIGHTS_MEMBER), weights, compress_type=zipfile.ZIP_STORED)


def write_streamed(file, header: bytes, weights: IO[bytes], size: int,
                   on_chunk: Callable[[bytes], None]) -> None:
    """The zip archive with the weights copied from a stream of ``size`` bytes in chunks
    (``on_chunk`` sees each one), so a re-signed file never holds its weights in memory."""
    with zipfile.ZipFile(file, "w") as zf:
        zf.writestr(_member(JSON_MEMBER), header, compress_type=zipfile.ZIP_DEFLATED)
        info = _member(WEIGHTS_MEMBER)
        info.compress_type, info.file_size = zipfile.ZIP_STORED, size
        with zf.open(info, "w", force_zip64=size > 2**31) as out:
            while chunk := weights.read(1 << 20):
                on_chunk(chunk)
                out.write(chunk)


def atomic_write(path: PathLike, write: Callable[[Any], None]) -> None:
    """Run ``write(file)`` on a temp file beside ``path``, then move it over ``path``."""
    _atomic_write(pathlib.Path(path), write)


def _member(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=datetime.datetime.now().timetuple()[:6])
    info.external_attr = 0o644 << 16  # rw-r--r-- when unzipped
    return info


def _atomic_write(path: pathlib.Path, write: Callable[[Any], None]) -> None:
    """Run ``write(file)`` on a temp file beside ``path``, then move it over ``path``."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    # os.open with mode 0o666 honours the umask, unlike tempfile.mkstemp's 0o600.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _check_target(path: pathlib.Path) -> None:
    if path.is_dir():
        raise BundleError(problem(f"cannot save a model file to {str(path)!r}",
                                  expected="a file path", got="a directory",
                                  fix=f"add a file name, e.g. {str(path / ('model' + SUFFIX))!r}"))
    parent = path.parent
    if not parent.is_dir():
        raise BundleError(problem(f"cannot save a model file to {str(path)!r}",
                                  expected="an existing directory",
                                  got=f"{str(parent)!r} does not exist",
                                  fix="create it first, e.g. os.makedirs"))


def _fsync_dir(directory: pathlib.Path) -> None:
    """Make the rename itself durable (POSIX only; Windows cannot open a directory)."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError:  # some filesystems do not support fsync on directories
        pass
    finally:
        os.close(fd)
