"""Read weights.safetensors from a stream, checking its header before any data.

The safetensors layout (https://github.com/huggingface/safetensors): an 8-byte
little-endian header length ``N``, ``N`` bytes of JSON ``{name: {"dtype", "shape",
"data_offsets": [begin, end]}, "__metadata__": {str: str}}``, then the tensor data, with
offsets relative to its start. :func:`parse_header` checks, before anything else is read:
``N`` within :data:`~rnnkit.bundle.limits.MAX_SAFETENSORS_HEADER` and the member; bounded
JSON; known dtype names; shapes of non-negative ints; each tensor's byte size equal to
``prod(shape) * itemsize``; offsets contiguous from 0 and their sum equal to the rest of
the member. :func:`make_tensors` then turns one buffer of exactly that size into tensors
without a second full copy (``torch.frombuffer`` views; a misaligned tensor is copied),
and refuses NaN or inf in any float tensor and a bool that is not 0 or 1.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch

from rnnkit.bundle import limits
from rnnkit.bundle.jsonguard import loads_bounded
from rnnkit.bundle.tensorspec import DTYPES, FLOAT_DTYPES, TensorSpec
from rnnkit.errors import BundleError

MEMBER = "weights.safetensors"
RESAVE = "save the model again, or restore the file from a good copy"
_CHECK_CHUNK = 1 << 18  # elements per finiteness check: temporaries of at most ~1 MiB


@dataclasses.dataclass(frozen=True)
class Layout:
    """The checked header: tensor specs and byte ranges (in data order), data size."""

    specs: dict[str, TensorSpec]
    offsets: dict[str, tuple[int, int]]
    data_size: int


def header_length(prefix: bytes, member_size: int, name: str) -> int:
    """``N`` from the 8-byte prefix, checked against the limit and the member size."""
    n = int.from_bytes(prefix, "little")
    if n > limits.MAX_SAFETENSORS_HEADER or n > member_size - 8:
        raise _bad(name, f"its header length {n:,} is over the limit of "
                   f"{limits.MAX_SAFETENSORS_HEADER:,} bytes or past the member's end "
                   f"({member_size:,} bytes)")
    return n


def parse_header(raw: bytes, data_size: int, name: str) -> Layout:
    """The :class:`Layout` of a header ``raw`` followed by ``data_size`` bytes of data."""
    where = f"model file {name}: {MEMBER} header"
    try:
        header = loads_bounded(raw, where, max_depth=4, max_containers=3 * limits.MAX_TENSORS,
                               max_values=10 * limits.MAX_TENSORS)
    except BundleError as err:
        raise _bad(name, str(err)) from None
    if not isinstance(header, dict):
        raise _bad(name, "its header is not a JSON object")
    _check_metadata(header.pop("__metadata__", {}), name)
    if len(header) > limits.MAX_TENSORS:
        raise _bad(name, f"it lists {len(header):,} tensors, over the limit of "
                   f"{limits.MAX_TENSORS:,}")
    specs, offsets = {}, {}
    for tensor, entry in header.items():
        specs[tensor], offsets[tensor] = _entry(tensor, entry, name)
    _check_contiguous(specs, offsets, data_size, name)
    order = sorted(offsets, key=lambda t: offsets[t])
    return Layout({t: specs[t] for t in order}, {t: offsets[t] for t in order}, data_size)


def _check_metadata(metadata: Any, name: str) -> None:
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise _bad(name, "its __metadata__ is not an object of strings")


def _entry(tensor: str, entry: Any, name: str) -> tuple[TensorSpec, tuple[int, int]]:
    """One tensor's spec and offsets, each field checked."""
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise _bad(name, f"tensor {tensor!r} is not {{dtype, shape, data_offsets}}")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if dtype not in DTYPES:
        raise _bad(name, f"tensor {tensor!r} has dtype {dtype!r}, not one of {sorted(DTYPES)}")
    if (not isinstance(shape, list) or len(shape) > limits.MAX_RANK
            or not all(_is_count(d) for d in shape)):
        raise _bad(name, f"tensor {tensor!r} has shape {str(shape)[:80]}, not a list of at "
                   f"most {limits.MAX_RANK} non-negative ints")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(map(_is_count, offsets))
            and offsets[0] <= offsets[1]):
        raise _bad(name, f"tensor {tensor!r} has data_offsets {str(offsets)[:80]}, not "
                   f"[begin, end] with 0 <= begin <= end")
    spec = TensorSpec(dtype=dtype, shape=tuple(shape))
    if offsets[1] - offsets[0] != spec.nbytes:
        raise _bad(name, f"tensor {tensor!r} ({dtype}, shape {list(shape)}) needs "
                   f"{spec.nbytes:,} bytes but its data_offsets span "
                   f"{offsets[1] - offsets[0]:,}")
    return spec, (offsets[0], offsets[1])


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_contiguous(specs, offsets, data_size: int, name: str) -> None:
    """The tensors tile the data exactly: no gap, no overlap, nothing left over."""
    at = 0
    for tensor in sorted(offsets, key=lambda t: offsets[t]):
        begin, end = offsets[tensor]
        if begin != at:
            raise _bad(name, f"tensor {tensor!r} starts at byte {begin:,}, expected "
                       f"{at:,} (the offsets leave a gap or overlap)")
        at = end
    if at != data_size:
        raise _bad(name, f"its tensors hold {at:,} bytes but the member holds {data_size:,} "
                   f"bytes of data")


def make_tensors(buffer: bytearray, layout: Layout, name: str) -> dict[str, torch.Tensor]:
    """Tensors over ``buffer`` (views where aligned), each checked for finite values."""
    tensors = {}
    for tensor, spec in layout.specs.items():
        begin, _ = layout.offsets[tensor]
        tensors[tensor] = _view(buffer, begin, spec)
        _check_values(tensor, spec, tensors[tensor], name)
    return tensors


def _view(buffer: bytearray, begin: int, spec: TensorSpec) -> torch.Tensor:
    dtype = DTYPES[spec.dtype][0]
    if spec.numel == 0:
        return torch.empty(spec.shape, dtype=dtype)
    if begin % spec.itemsize:  # misaligned: copy this tensor's bytes
        chunk = bytearray(buffer[begin:begin + spec.nbytes])
        return torch.frombuffer(chunk, dtype=dtype, count=spec.numel).reshape(spec.shape)
    flat = torch.frombuffer(buffer, dtype=dtype, count=spec.numel, offset=begin)
    return flat.reshape(spec.shape)


def _check_values(tensor: str, spec: TensorSpec, value: torch.Tensor, name: str) -> None:
    """Finite floats and 0/1 bools, checked in chunks so temporaries stay small."""
    flat = value.reshape(-1)
    if spec.dtype in FLOAT_DTYPES:
        bad, first = 0, None
        for start in range(0, flat.numel(), _CHECK_CHUNK):
            part = flat[start:start + _CHECK_CHUNK]
            finite = torch.isfinite(part)
            if not bool(finite.all()):
                bad += int((~finite).sum())
                first = part[~finite][0].item() if first is None else first
        if bad:
            raise BundleError(f"model file {name}: tensor {tensor!r} holds {first} ({bad} "
                              f"non-finite values): a model with NaN or inf weights answers "
                              f"NaN (retrain it, or restore the file from a good copy)")
    if spec.dtype == "BOOL" and flat.numel() and int(flat.view(torch.uint8).max()) > 1:
        raise _bad(name, f"tensor {tensor!r} holds bools other than 0 and 1")


def _bad(name: str, reason: str) -> BundleError:
    return BundleError(f"model file {name}: {MEMBER} could not be parsed as safetensors "
                       f"({reason}; {RESAVE})")
