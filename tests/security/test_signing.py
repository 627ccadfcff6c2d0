"""Signed model files (issue 22, "Signed model files"): ``rnnkit keygen / sign / verify``
and ``rnnkit.load(..., trusted_keys=...)``. A digest proves integrity, not origin: these
tests edit a signed file and recompute its digest as an attacker would, and check that
only the signature catches it. Every refusal is one BundleError line (exit status 2)."""

from __future__ import annotations

import json
import shutil
import stat
import zipfile
from pathlib import Path

import pytest
from security_helpers import load_in_subprocess, rewrite

import rnnkit
from rnnkit.bundle import content_sha256, load_public_key, read_bundle, sign_bundle
from rnnkit.cli.main import main
from rnnkit.errors import BundleError

JSON, WEIGHTS = "rnnkit.json", "weights.safetensors"


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def cli(capsys, *args) -> tuple[int, str]:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, (out.out + out.err).strip()


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("keys")
    assert main(["keygen", str(folder / "publisher.key")]) == 0
    assert main(["keygen", str(folder / "other.key")]) == 0
    return {"private": folder / "publisher.key", "public": folder / "publisher.key.pub",
            "other_private": folder / "other.key", "other": folder / "other.key.pub"}


@pytest.fixture
def signed(forecaster_file, keys, tmp_path) -> Path:
    path = Path(shutil.copy(forecaster_file, tmp_path / "signed.rnnkit"))
    sign_bundle(path, keys["private"])
    return path


def test_keygen_writes_a_private_key_only_its_owner_reads_and_never_overwrites(keys, capsys):
    assert stat.S_IMODE(keys["private"].stat().st_mode) == 0o600
    assert keys["private"].read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert keys["public"].read_text().startswith("-----BEGIN PUBLIC KEY-----")
    before = keys["private"].read_bytes()
    code, out = cli(capsys, "keygen", keys["private"])
    assert code == 2 and "expected a new file, got it exists" in out
    assert keys["private"].read_bytes() == before


def test_sign_and_verify_round_trip_on_the_command_line(forecaster_file, keys, tmp_path,
                                                        capsys):
    path = Path(shutil.copy(forecaster_file, tmp_path / "m.rnnkit"))
    code, out = cli(capsys, "verify", path)
    assert code == 0 and out.endswith(")") and "digest ok, unsigned" in out
    code, out = cli(capsys, "sign", path, "--key", keys["private"])
    fingerprint = out.rsplit(" ", 1)[-1]
    assert code == 0 and fingerprint.startswith("ed25519:") and len(fingerprint) == 24
    code, out = cli(capsys, "verify", path, "--trusted-key", keys["other"],
                    "--trusted-key", keys["public"])
    assert code == 0 and f"digest ok, signed by {fingerprint}" in out and "\n" not in out


def test_signing_changes_nothing_but_the_signature(forecaster_file, signed):
    before, after = members(forecaster_file), members(signed)
    assert after[WEIGHTS] == before[WEIGHTS]
    old, new = json.loads(before[JSON]), json.loads(after[JSON])
    assert set(new["signature"]) == {"scheme", "public_key", "value"}
    assert new["signature"]["scheme"] == "ed25519"
    assert {k: v for k, v in new.items() if k != "signature"} == old


def test_load_with_trusted_keys_accepts_the_signed_file_and_predicts_the_same(
        forecaster_file, signed, keys):
    answer = load_in_subprocess(signed, trusted_keys=[str(keys["public"])])
    assert answer["ok"], answer
    from security_helpers import daily_frame
    a = rnnkit.load(signed, trusted_keys=[keys["public"]]).predict(daily_frame())
    b = rnnkit.load(forecaster_file).predict(daily_frame())
    assert a.equals(b)
    key_object = load_public_key(keys["public"])
    assert read_bundle(signed, trusted_keys=[key_object]).signed_by.startswith("ed25519:")


def test_unsigned_file_with_trusted_keys_is_refused(forecaster_file, keys, capsys):
    answer = load_in_subprocess(forecaster_file, trusted_keys=[str(keys["public"])])
    assert answer["kind"] == "BundleError" and answer["traceback"] is None, answer
    assert "is not signed: expected a signature by one of the 1 trusted key(s), got none" \
        in answer["error"]
    code, out = cli(capsys, "verify", forecaster_file, "--trusted-key", keys["public"])
    assert code == 2 and out.startswith("error: ") and "is not signed" in out


def test_file_signed_by_an_untrusted_key_is_refused(signed, keys, capsys):
    with pytest.raises(BundleError, match="is signed by an untrusted key: expected one of "
                       "ed25519:[0-9a-f]{16}, got ed25519:"):
        rnnkit.load(signed, trusted_keys=[keys["other"]])
    code, out = cli(capsys, "verify", signed, "--trusted-key", keys["other"])
    assert code == 2 and "signed by an untrusted key" in out


def _edit_scaler(src: Path, dst: Path, *, recompute: bool) -> Path:
    old = members(src)
    document = json.loads(old[JSON])
    document["preprocessing"]["scalers"]["target"]["None"]["mean"][0][0] += 5.0
    if recompute:  # the digest is public: anyone who edits the file can recompute it
        document["content_sha256"] = content_sha256(document, old[WEIGHTS])
    return rewrite(src, dst, {JSON: json.dumps(document).encode()})


def test_tampered_signed_file_with_a_recomputed_digest_fails_the_signature(signed, keys,
                                                                           tmp_path):
    path = _edit_scaler(signed, tmp_path / "tampered.rnnkit", recompute=True)
    answer = load_in_subprocess(path, trusted_keys=[str(keys["public"])])
    assert answer["kind"] == "BundleError" and answer["traceback"] is None, answer
    assert "the signature does not match the contents: the file was modified after it " \
        "was signed" in answer["error"]
    with pytest.raises(BundleError, match="signature does not match"):
        read_bundle(path)  # even without trusted keys a broken signature is refused


def test_tampered_signed_file_with_the_old_digest_fails_the_digest(signed, tmp_path):
    path = _edit_scaler(signed, tmp_path / "tampered.rnnkit", recompute=False)
    with pytest.raises(BundleError, match="content digest mismatch"):
        rnnkit.load(path)


def test_signature_copied_from_another_file_is_refused(signed, forecaster_file, keys,
                                                       tmp_path):
    other = _edit_scaler(forecaster_file, tmp_path / "other.rnnkit", recompute=True)
    document = json.loads(members(other)[JSON])
    document["signature"] = json.loads(members(signed)[JSON])["signature"]
    path = rewrite(other, tmp_path / "copied.rnnkit", {JSON: json.dumps(document).encode()})
    with pytest.raises(BundleError, match="signature was copied from another file"):
        rnnkit.load(path, trusted_keys=[keys["public"]])


def test_signing_with_a_public_key_or_a_missing_key_is_one_line(forecaster_file, keys,
                                                                tmp_path, capsys):
    path = Path(shutil.copy(forecaster_file, tmp_path / "m.rnnkit"))
    before = path.read_bytes()
    code, out = cli(capsys, "sign", path, "--key", keys["public"])
    assert code == 2 and "expected an unencrypted PEM private key" in out
    code, out = cli(capsys, "sign", path, "--key", tmp_path / "nope.key")
    assert code == 2 and "expected a readable file" in out and "\n" not in out
    assert path.read_bytes() == before


def test_a_file_from_before_content_digests_gets_one_when_signed(forecaster_file, keys,
                                                                 tmp_path, capsys):
    document = json.loads(members(forecaster_file)[JSON])
    del document["content_sha256"]
    path = rewrite(forecaster_file, tmp_path / "old.rnnkit",
                   {JSON: json.dumps(document).encode()})
    code, out = cli(capsys, "verify", path)
    assert code == 0 and "no content digest: saved by an older rnnkit" in out
    assert cli(capsys, "sign", path, "--key", keys["private"])[0] == 0
    assert "content_sha256" in json.loads(members(path)[JSON])
    assert read_bundle(path, trusted_keys=[keys["public"]]).signed_by


def test_new_commands_have_help_with_an_example(capsys):
    for command in ("keygen", "sign", "verify"):
        assert main([command, "--help"]) == 0
        assert "Example: rnnkit " + command in capsys.readouterr().out
