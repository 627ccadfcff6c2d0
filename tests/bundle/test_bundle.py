"""Model file round trip, atomic writes, and every way a file can be broken."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import pickle
import struct
import warnings
import zipfile

import numpy as np
import pytest
import safetensors.torch
import torch

from rnnkit._version import __version__
from rnnkit.bundle import FORMAT_VERSION, Bundle, format as fmt, read_bundle, save_bundle, writer
from rnnkit.errors import BundleError

TENSORS = {
    "weight_ih_l0": torch.randn(8, 3, generator=torch.Generator().manual_seed(0)),
    "double": torch.tensor([1.0 / 3.0, -2.5e-300], dtype=torch.float64),
    "steps": torch.tensor([0, 2**62, -7], dtype=torch.int64),
    "mask": torch.tensor([True, False, True]),
    "half": torch.tensor([1.5, -0.25], dtype=torch.bfloat16),
}
CONFIG = {"cell": "lstm", "hidden_size": 16, "lr": 1e-3, "layers": [1, 2], "extra": None}
PREPROCESSING = {"vocab": ["<pad>", "a", "ü"], "scaler": {"mean": 2.5, "std": 0.5}}
METRICS = {"mae": 0.125, "ok": True}


def _save(path, **overrides):
    fields = dict(task="forecaster", config=CONFIG, tensors=TENSORS,
                  preprocessing=PREPROCESSING, metrics=METRICS)
    return save_bundle(path, **{**fields, **overrides})


@pytest.fixture
def saved(tmp_path):
    return _save(tmp_path / "model.rnnkit")


def _members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _rewrite(path, members: dict[str, bytes]) -> None:
    """Rebuild the archive with these members (zipfile writes fresh, valid CRCs)."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _patch_json(path, **changes) -> None:
    members = _members(path)
    document = json.loads(members[fmt.JSON_MEMBER])
    document.update(changes)
    members[fmt.JSON_MEMBER] = json.dumps(document).encode()
    _rewrite(path, members)


def _read_error(path) -> str:
    with pytest.raises(BundleError) as info:
        read_bundle(path)
    return str(info.value)


# --- round trip -----------------------------------------------------------------------

def test_round_trip_is_exact(saved):
    bundle = read_bundle(saved)
    assert set(bundle.tensors) == set(TENSORS)
    for name, tensor in TENSORS.items():
        assert bundle.tensors[name].dtype == tensor.dtype
        assert torch.equal(bundle.tensors[name], tensor), name
    assert (bundle.task, bundle.config) == ("forecaster", CONFIG)
    assert (bundle.preprocessing, bundle.metrics) == (PREPROCESSING, METRICS)
    assert (bundle.format_version, bundle.library_version) == (FORMAT_VERSION, __version__)
    created = datetime.datetime.fromisoformat(bundle.created)
    assert created.utcoffset() == datetime.timedelta(0)


def test_file_is_exactly_two_members_with_documented_header(saved):
    members = _members(saved)
    assert sorted(members) == sorted(fmt.MEMBERS)
    document = json.loads(members[fmt.JSON_MEMBER])
    assert document["format"] == "rnnkit-bundle"
    assert document["weights_format"] == "safetensors"
    assert document["weights_sha256"] == hashlib.sha256(members[fmt.WEIGHTS_MEMBER]).hexdigest()


def test_saves_a_bundle_object_and_returns_path(tmp_path):
    bundle = Bundle(task="lm", config={"a": 1}, tensors={"w": torch.ones(2)})
    path = save_bundle(str(tmp_path / "lm.rnnkit"), bundle)
    assert path == tmp_path / "lm.rnnkit"
    assert read_bundle(path).config == {"a": 1}


def test_bundle_and_fields_together_is_a_type_error(tmp_path):
    bundle = Bundle(task="lm", config={}, tensors={})
    with pytest.raises(TypeError, match="either a Bundle"):
        save_bundle(tmp_path / "x.rnnkit", bundle, task="lm")
    with pytest.raises(TypeError, match="required"):
        save_bundle(tmp_path / "x.rnnkit", task="lm")


def test_views_shared_storage_and_grad_tensors_are_saved(tmp_path):
    base = torch.arange(12.0).reshape(3, 4).requires_grad_()
    tensors = {"w": base, "w_t": base.T, "tied": base, "row": base[1]}
    bundle = read_bundle(save_bundle(tmp_path / "m.rnnkit", task="t", config={},
                                     tensors=tensors))
    for name, tensor in tensors.items():
        assert torch.equal(bundle.tensors[name], tensor.detach()), name
        assert bundle.tensors[name].is_contiguous()


def test_numpy_and_tensor_values_become_plain_json(tmp_path):
    preprocessing = {"mean": np.float32(0.5), "cols": np.array([1, 2]), "n": np.int64(3),
                     "flag": np.bool_(True), "shape": (2, 3), "t": torch.tensor([1.5])}
    bundle = read_bundle(_save(tmp_path / "m.rnnkit", preprocessing=preprocessing))
    assert bundle.preprocessing == {"mean": 0.5, "cols": [1, 2], "n": 3, "flag": True,
                                    "shape": [2, 3], "t": [1.5]}


@pytest.mark.parametrize("config, fragment", [
    ({"scaler": object()}, "config['scaler']: expected a JSON-serialisable value"),
    ({"a": [1, {2}]}, "config['a'][1]: expected a JSON-serialisable value"),
    ({"itos": {1: "a"}}, "config['itos']: dict key 1: expected a str key"),
])
def test_unserialisable_values_name_their_key_path(tmp_path, config, fragment):
    with pytest.raises(BundleError, match=fragment.replace("[", r"\[").replace("(", r"\(")):
        _save(tmp_path / "m.rnnkit", config=config)


def test_bad_tensors_are_refused(tmp_path):
    with pytest.raises(BundleError, match=r"tensors\['w'\]: expected a torch.Tensor"):
        _save(tmp_path / "m.rnnkit", tensors={"w": np.ones(2)})
    with pytest.raises(BundleError, match="task: expected a non-empty str"):
        _save(tmp_path / "m.rnnkit", task="")


# --- writing --------------------------------------------------------------------------

def test_failed_save_keeps_old_file_and_leaves_no_temp(saved):
    before = saved.read_bytes()
    with pytest.raises(BundleError):
        _save(saved, config={"bad": object()})
    assert saved.read_bytes() == before
    assert os.listdir(saved.parent) == [saved.name]


def test_failure_mid_write_keeps_old_file_and_removes_temp(saved, monkeypatch):
    before = saved.read_bytes()

    def half_write(file, header, weights):
        file.write(b"PK\x03\x04 partial")
        raise OSError("disk full")

    monkeypatch.setattr(writer, "_write_zip", half_write)
    with pytest.raises(OSError, match="disk full"):
        _save(saved)
    assert saved.read_bytes() == before
    assert os.listdir(saved.parent) == [saved.name]


def test_save_overwrites_and_warns_only_on_other_suffix(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = _save(tmp_path / "m.rnnkit")
        _save(path, metrics={"mae": 9.0})
    assert read_bundle(path).metrics == {"mae": 9.0}
    with pytest.warns(UserWarning, match="usually end in '.rnnkit'"):
        path = _save(tmp_path / "m.zip")
    assert path.name == "m.zip" and read_bundle(path).task == "forecaster"


def test_save_to_directory_or_missing_parent_is_refused(tmp_path):
    with pytest.raises(BundleError, match="expected a file path, got a directory"):
        _save(tmp_path)
    with pytest.raises(BundleError, match="does not exist"):
        _save(tmp_path / "nope" / "m.rnnkit")


# --- reading broken files -------------------------------------------------------------

def test_missing_file(tmp_path):
    assert "does not exist" in _read_error(tmp_path / "absent.rnnkit")


def test_empty_file(tmp_path):
    path = tmp_path / "m.rnnkit"
    path.write_bytes(b"")
    assert "is empty (0 bytes)" in _read_error(path)


def test_random_bytes(tmp_path):
    path = tmp_path / "m.rnnkit"
    path.write_bytes(os.urandom(1000).replace(b"PK", b"xx"))
    assert "is not an rnnkit model file (a zip of rnnkit.json" in _read_error(path)


def test_other_zip_is_not_a_model_file(tmp_path):
    path = tmp_path / "m.rnnkit"
    _rewrite(path, {"readme.txt": b"hello"})
    assert "is not an rnnkit model file" in _read_error(path)


def test_truncated_zip(saved):
    data = saved.read_bytes()
    saved.write_bytes(data[: len(data) // 2])
    assert "truncated or corrupt zip" in _read_error(saved)


def test_flipped_byte_fails_the_crc(saved):
    data = bytearray(saved.read_bytes())
    at = data.find(_members(saved)[fmt.WEIGHTS_MEMBER]) + 200  # inside the tensor data
    data[at] ^= 0xFF
    saved.write_bytes(bytes(data))
    message = _read_error(saved)
    assert "'weights.safetensors' is corrupt" in message and "CRC" in message


def test_tampered_weights_fail_the_digest(saved):
    members = _members(saved)
    weights = bytearray(members[fmt.WEIGHTS_MEMBER])
    weights[-1] ^= 0x01
    members[fmt.WEIGHTS_MEMBER] = bytes(weights)
    _rewrite(saved, members)
    message = _read_error(saved)
    assert "weights digest mismatch: the file was modified or corrupted" in message
    assert json.loads(members[fmt.JSON_MEMBER])["weights_sha256"] in message


def test_newer_format_version_says_who_can_read_it(saved):
    _patch_json(saved, format_version=99, library_version="7.0.0")
    message = _read_error(saved)
    assert "format_version 99 (written by rnnkit 7.0.0)" in message
    assert f"expected format_version <= {FORMAT_VERSION}" in message
    assert "pip install -U rnnkit" in message


def test_newer_version_wins_over_new_members(saved):
    members = _members(saved)
    members["vocab.bin"] = b"new in v2"
    _rewrite(saved, members)
    _patch_json(saved, format_version=2)
    assert "pip install -U rnnkit" in _read_error(saved)


@pytest.mark.parametrize("version", [0, -1, "1", True, 1.0, None])
def test_corrupt_format_version(saved, version):
    _patch_json(saved, format_version=version)
    assert "'format_version': expected an int >= 1" in _read_error(saved)


def test_missing_weights_member(saved):
    members = _members(saved)
    del members[fmt.WEIGHTS_MEMBER]
    _rewrite(saved, members)
    assert "member 'weights.safetensors' is missing" in _read_error(saved)


def test_missing_json_member(saved):
    members = _members(saved)
    del members[fmt.JSON_MEMBER]
    _rewrite(saved, members)
    assert "is not an rnnkit model file" in _read_error(saved)
    assert "it has no rnnkit.json" in _read_error(saved)


def test_extra_member_is_refused(saved):
    members = _members(saved)
    members["payload.pkl"] = pickle.dumps({"x": 1})
    _rewrite(saved, members)
    message = _read_error(saved)
    assert "unexpected extra or duplicate members" in message and "payload.pkl" in message


def test_invalid_json(saved):
    members = _members(saved)
    members[fmt.JSON_MEMBER] = b'{"format": "rnnkit-bundle",'
    _rewrite(saved, members)
    assert "rnnkit.json is not valid JSON" in _read_error(saved)


def test_wrong_format_field(saved):
    _patch_json(saved, format="keras")
    assert "'format': expected 'rnnkit-bundle', got 'keras'" in _read_error(saved)


def test_missing_and_mistyped_keys(saved):
    _patch_json(saved, config=[1, 2])
    assert "key 'config': expected dict, got list" in _read_error(saved)
    members = _members(saved)
    document = json.loads(members[fmt.JSON_MEMBER])
    del document["task"]
    members[fmt.JSON_MEMBER] = json.dumps(document).encode()
    _rewrite(saved, members)
    assert "key 'task': expected present, got missing" in _read_error(saved)


def test_member_over_the_size_limit(saved, monkeypatch):
    monkeypatch.setitem(fmt.MEMBER_LIMITS, fmt.WEIGHTS_MEMBER, 100)
    message = _read_error(saved)
    assert "'weights.safetensors' is too large: expected at most 100 bytes" in message


def test_member_claiming_a_huge_size_is_never_unpacked(saved):
    """A zip bomb: the central directory claims 2 GiB of JSON; refuse before reading."""
    data = bytearray(saved.read_bytes())
    name = fmt.JSON_MEMBER.encode()
    at = data.find(b"PK\x01\x02")  # central directory entries
    while data[at + 46: at + 46 + len(name)] != name:
        at = data.find(b"PK\x01\x02", at + 1)
    struct.pack_into("<I", data, at + 24, 0x7FFFFFFF)  # uncompressed size field
    saved.write_bytes(bytes(data))
    assert "'rnnkit.json' is too large: expected at most 64.0 MiB, got 2.0 GiB" in \
        _read_error(saved)


def test_unparsable_weights_with_matching_digest(saved):
    members = _members(saved)
    members[fmt.WEIGHTS_MEMBER] = b"\x08\x00\x00\x00\x00\x00\x00\x00{garbage"
    digest = hashlib.sha256(members[fmt.WEIGHTS_MEMBER]).hexdigest()
    document = json.loads(members[fmt.JSON_MEMBER])
    members[fmt.JSON_MEMBER] = json.dumps({**document, "weights_sha256": digest}).encode()
    _rewrite(saved, members)
    assert "could not be parsed as safetensors" in _read_error(saved)


def test_reading_never_unpickles(saved, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("read_bundle must not unpickle")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    monkeypatch.setattr(torch, "load", refuse)
    assert torch.equal(read_bundle(saved).tensors["steps"], TENSORS["steps"])


def test_weights_member_is_plain_safetensors(saved):
    tensors = safetensors.torch.load(_members(saved)[fmt.WEIGHTS_MEMBER])
    assert torch.equal(tensors["double"], TENSORS["double"])
