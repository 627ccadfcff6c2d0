"""Hostile model files, crafted from the forecaster fixture as an attacker would (issue 22,
items 4, 6 and 7 at file level): each is refused with ONE BundleError line, no traceback,
and bounded memory.

Memory rule: each file is loaded by ``rnnkit.load`` in a fresh process
(``load_in_subprocess``), and its peak-RSS growth over the imports must satisfy
``rss_delta_kib(hostile) <= 2 * max(rss_delta_kib(honest), FLOOR_KIB)``, where *honest* is
the unmodified fixture measured the same way. The floor (4 MiB) is there because the
honest delta is often 0 (the imports' peak is above the load's), and a few hundred KiB
of allocator noise must not fail the test; every bomb here would cost hundreds of MiB
to GiBs if it were unpacked.
"""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
import torch
from security_helpers import load_in_subprocess, rewrite

import rnnkit.bundle as bundle_api
from rnnkit.bundle import read_bundle, save_bundle
from rnnkit.errors import BundleError

FLOOR_KIB = 4 * 1024
JSON, WEIGHTS = "rnnkit.json", "weights.safetensors"
MiB, GiB = 1 << 20, 1 << 30


@pytest.fixture(scope="module")
def honest_kib(forecaster_file) -> int:
    answer = load_in_subprocess(forecaster_file)
    assert answer["ok"], answer
    return answer["rss_delta_kib"]


def refused(path: Path, honest_kib: int, fragment: str) -> str:
    """Load ``path`` in a fresh process; assert one clear BundleError line and memory."""
    answer = load_in_subprocess(path)
    assert answer["traceback"] is None, answer["traceback"]
    assert answer["kind"] == "BundleError", answer
    message = answer["error"]
    assert "\n" not in message and fragment in message, message
    assert answer["rss_delta_kib"] <= 2 * max(honest_kib, FLOOR_KIB), answer
    return message


def refused_here(path: Path, fragment: str) -> str:
    """The same refusal in this process (for variants of an attack measured above)."""
    with pytest.raises(BundleError) as info:
        read_bundle(path)
    message = str(info.value)
    assert "\n" not in message and fragment in message, message
    return message


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def raw_zip(dst: Path, entries: list[tuple[str, int, bytes, int, int]]) -> Path:
    """A zip written by hand: ``(name, method, stored bytes, crc, uncompressed size)``
    each, so sizes and methods can be whatever an attacker declares."""
    local, central, at = [], [], 0
    for name, method, data, crc, size in entries:
        n = name.encode()
        head = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0x21,
                           crc, len(data), size, len(n), 0) + n
        central.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0,
                                   0x21, crc, len(data), size, len(n), 0, 0, 0, 0, 0, at) + n)
        local += [head, data]
        at += len(head) + len(data)
    cd = b"".join(central)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(entries), len(entries), len(cd),
                      at, 0)
    dst.write_bytes(b"".join(local) + cd + end)
    return dst


def edit_json(src: Path, dst: Path, edit, *, recompute: bool = False) -> Path:
    """rnnkit.json edited by ``edit(text) -> text``; with ``recompute`` the content digest
    is recomputed, as an attacker who knows the (public) canonical encoding would."""
    old = members(src)
    text = edit(old[JSON].decode())
    if recompute:
        document = json.loads(text)
        document["content_sha256"] = bundle_api.content_sha256(document, old[WEIGHTS])
        text = json.dumps(document, indent=2)
    return rewrite(src, dst, {JSON: text.encode()})


def with_weights(src: Path, dst: Path, weights: bytes) -> Path:
    """The weights member replaced, with both digests recomputed to match."""
    document = json.loads(members(src)[JSON])
    document["weights_sha256"] = __import__("hashlib").sha256(weights).hexdigest()
    document["content_sha256"] = bundle_api.content_sha256(document, weights)
    return rewrite(src, dst, {JSON: json.dumps(document).encode(), WEIGHTS: weights},
                   compress={WEIGHTS: zipfile.ZIP_STORED})


def safetensors_parts(weights: bytes) -> tuple[dict, bytes]:
    n = int.from_bytes(weights[:8], "little")
    return json.loads(weights[8:8 + n]), weights[8 + n:]


def safetensors_join(header: dict, data: bytes) -> bytes:
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    return len(raw).to_bytes(8, "little") + raw + data


# --- zip bombs and archive shape -------------------------------------------------------

def test_weights_member_inflating_to_2_gib_is_refused_before_inflating(forecaster_file,
                                                                        tmp_path, honest_kib):
    """2 MB on disk, 2 GiB inflated, with a correct CRC: only the ratio refuses it."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = deflate.compress(bytes(MiB)) + deflate.flush(zlib.Z_FULL_FLUSH)
    crc, block = 0, bytes(MiB)
    for _ in range(2048):
        crc = zlib.crc32(block, crc)
    bomb = piece * 2048 + b"\x03\x00"  # 2048 independent 1 MiB pieces + an empty last block
    header = members(forecaster_file)[JSON]
    path = raw_zip(tmp_path / "bomb.rnnkit", [
        (JSON, 0, header, zlib.crc32(header), len(header)),
        (WEIGHTS, 8, bomb, crc, 2 * GiB)])
    assert path.stat().st_size < 3 * MiB
    message = refused(path, honest_kib, "'weights.safetensors' inflates too much")
    assert "2.0 GiB" in message


def test_metrics_of_21_million_empty_lists_is_refused(forecaster_file, tmp_path, honest_kib):
    """~168 KB deflated, ~63 MB of JSON, ~2 GB as Python lists."""
    lists = "[]," * (21_000_000 - 1) + "[]"
    path = edit_json(forecaster_file, tmp_path / "lists.rnnkit",
                     lambda t: t.replace('"metrics": {}', '"metrics": {"m": [' + lists + "]}"))
    assert path.stat().st_size < 400_000
    refused(path, honest_kib, "'rnnkit.json' inflates too much")


def test_many_small_lists_within_the_ratio_are_refused_by_count(forecaster_file, tmp_path):
    """Under the size where the ratio is checked, the container count still bounds it."""
    lists = "[]," * 200_000 + "[]"
    path = edit_json(forecaster_file, tmp_path / "lists.rnnkit",
                     lambda t: t.replace('"metrics": {}', '"metrics": {"m": [' + lists + "]}"))
    refused_here(path, "too many JSON lists and objects: expected at most 100,000")


def test_archive_with_many_entries_is_refused_before_listing(forecaster_file, tmp_path,
                                                             honest_kib):
    entries = [(name, 0, data, zlib.crc32(data), len(data))
               for name, data in members(forecaster_file).items()]
    entries += [(f"x{i}", 0, b"", 0, 0) for i in range(65_000)]
    path = raw_zip(tmp_path / "many.rnnkit", entries)
    refused(path, honest_kib, "the archive lists too many members: expected at most 16 "
            "entries")


# --- rnnkit.json that json.loads chokes on ---------------------------------------------

def test_100000_deep_json_is_one_line(forecaster_file, tmp_path, honest_kib):
    deep = "[" * 100_000 + "]" * 100_000
    path = edit_json(forecaster_file, tmp_path / "deep.rnnkit",
                     lambda t: t.replace('"metrics": {}', '"metrics": {"m": ' + deep + "}"))
    refused(path, honest_kib, "JSON nested too deeply: expected at most 64 levels")


def test_5000_digit_format_version_is_one_line(forecaster_file, tmp_path, honest_kib):
    path = edit_json(forecaster_file, tmp_path / "digits.rnnkit",
                     lambda t: t.replace('"format_version": 1', '"format_version": ' + "9" * 5000))
    refused(path, honest_kib, "rnnkit.json is not valid JSON (Exceeds the limit")


@pytest.mark.parametrize("cut", ["half", "end record", "first 100 bytes"])
def test_truncated_file_is_one_line(forecaster_file, tmp_path, cut):
    data = forecaster_file.read_bytes()
    keep = {"half": len(data) // 2, "end record": len(data) - 10, "first 100 bytes": 100}[cut]
    path = tmp_path / "cut.rnnkit"
    path.write_bytes(data[:keep])
    refused_here(path, "is a truncated or corrupt zip")


# --- safetensors headers that lie -------------------------------------------------------

def _lying(forecaster_file, tmp_path, lie) -> Path:
    header, data = safetensors_parts(members(forecaster_file)[WEIGHTS])
    weights = lie(header, data)
    return with_weights(forecaster_file, tmp_path / "lie.rnnkit", weights)


def _huge_shape(header, data):
    name = next(k for k in header if k != "__metadata__")
    header[name]["shape"] = [100_000, 100_000]
    return safetensors_join(header, data)


def _past_the_end(header, data):
    name = max((k for k in header if k != "__metadata__"),
               key=lambda k: header[k]["data_offsets"][1])
    begin, end = header[name]["data_offsets"]
    header[name]["data_offsets"] = [begin, end + 4 * GiB]
    header[name]["shape"] = [(end + 4 * GiB - begin) // 4]
    header[name]["dtype"] = "F32"
    return safetensors_join(header, data)


def _overlap(header, data):
    names = sorted((k for k in header if k != "__metadata__"),
                   key=lambda k: header[k]["data_offsets"][0])
    b = names[1]
    header[b]["data_offsets"] = [0, header[b]["data_offsets"][1] - header[b]["data_offsets"][0]]
    return safetensors_join(header, data)


def _header_length(header, data):
    weights = safetensors_join(header, data)
    return (2**62).to_bytes(8, "little") + weights[8:]


def test_safetensors_header_lying_about_a_shape(forecaster_file, tmp_path, honest_kib):
    path = _lying(forecaster_file, tmp_path, _huge_shape)
    message = refused(path, honest_kib, "shape [100000, 100000]) needs 40,000,000,000 bytes "
                      "but its data_offsets span")
    assert "weights.safetensors could not be parsed as safetensors" in message


@pytest.mark.parametrize("lie, fragment", [
    (_past_the_end, "bytes but the member holds"),
    (_overlap, "(the offsets leave a gap or overlap)"),
    (_header_length, "its header length 4,611,686,018,427,387,904 is over the limit"),
], ids=["past-the-end", "overlap", "header-length"])
def test_safetensors_header_lying_about_offsets(forecaster_file, tmp_path, lie, fragment):
    message = refused_here(_lying(forecaster_file, tmp_path, lie), fragment)
    assert "weights.safetensors could not be parsed as safetensors" in message


def test_unknown_dtype_is_refused(forecaster_file, tmp_path):
    def lie(header, data):
        name = next(k for k in header if k != "__metadata__")
        header[name]["dtype"] = "F8_E4M3"
        return safetensors_join(header, data)
    with pytest.raises(BundleError, match="has dtype 'F8_E4M3', not one of"):
        read_bundle(_lying(forecaster_file, tmp_path, lie))


# --- contents that would answer wrongly ------------------------------------------------

def _non_finite(forecaster_file, path: Path, value: float) -> tuple[Path, str]:
    """Digests recomputed by saving through rnnkit's own API, as an attacker could."""
    bundle = read_bundle(forecaster_file)
    name = next(k for k, t in bundle.tensors.items() if t.is_floating_point() and t.numel() > 3)
    bundle.tensors[name].view(-1)[3] = value
    return save_bundle(path, bundle), name


def test_nan_weights_are_refused(forecaster_file, tmp_path, honest_kib):
    path, name = _non_finite(forecaster_file, tmp_path / "nan.rnnkit", float("nan"))
    message = refused(path, honest_kib, f"tensor {name!r} holds nan")
    assert "(1 non-finite values)" in message


def test_inf_weights_are_refused(forecaster_file, tmp_path):
    path, name = _non_finite(forecaster_file, tmp_path / "inf.rnnkit", float("-inf"))
    refused_here(path, f"tensor {name!r} holds -inf (1 non-finite values)")


def test_edited_scaler_with_the_old_digest_is_refused(forecaster_file, tmp_path, honest_kib):
    document = json.loads(members(forecaster_file)[JSON])
    mean = document["preprocessing"]["scalers"]["target"]["None"]["mean"][0][0]

    def edit(text):
        assert repr(mean) in text
        return text.replace(repr(mean), repr(mean + 5.0), 1)
    path = edit_json(forecaster_file, tmp_path / "scaler.rnnkit", edit)
    message = refused(path, honest_kib, "content digest mismatch: rnnkit.json (config, "
                      "preprocessing or metrics) was modified after it was saved")
    assert document["content_sha256"] in message


def test_file_without_content_digest_still_loads_with_the_weights_check(forecaster_file,
                                                                       tmp_path):
    """Files from rnnkit before content_sha256 load; their weights digest still holds."""
    path = edit_json(forecaster_file, tmp_path / "old.rnnkit",
                     lambda t: json.dumps({k: v for k, v in json.loads(t).items()
                                           if k != "content_sha256"}))
    bundle = read_bundle(path)
    assert bundle.content_sha256 == read_bundle(forecaster_file).content_sha256


def test_check_sees_specs_before_any_data_is_read(forecaster_file):
    seen = {}

    def check(meta, specs):
        seen.update(specs)
        assert meta.tensors == {} and meta.task == "forecast"
        raise BundleError("refused by check")
    with pytest.raises(BundleError, match="refused by check"):
        read_bundle(forecaster_file, check=check)
    tensors = read_bundle(forecaster_file).tensors
    assert seen == {k: bundle_api.TensorSpec.of(t) for k, t in tensors.items()}
    assert all(bundle_api.TensorSpec.of(t.to("meta")) == seen[k] for k, t in tensors.items())
    assert isinstance(next(iter(tensors.values())), torch.Tensor)
