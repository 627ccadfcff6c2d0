"""Training checkpoints (issue 22, items 6 and 11).

A writer killed mid-write (``kill -9``) leaves ``.checkpoint.pt.<random>.tmp`` behind: the
next start removes it, but never another file, and never a temporary file a live writer
(a second run in the same folder) still holds. A checkpoint that is empty, cut short,
garbage, a pickle that names code, another program's file or another model's is one clear
error line (what, expected, got, fix) when a run resumes from it, and runs nothing.
"""

from __future__ import annotations

import io
import os
import pickle
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from rnnkit.errors import BundleError, ConfigError, RnnkitError
from rnnkit.train import TrainConfig, Trainer
from rnnkit.train.checkpoint import CHECKPOINT_NAME, load_checkpoint, remove_stale_temp_files, save_checkpoint

FIX = "run again without --resume (fit(resume=False))"
OLD = time.time() - 3600  # an mtime no live writer would leave


def loader():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(8, 2, generator=g)
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, x.sum(1, keepdim=True)),
                                       batch_size=4)


def loss_fn(model, batch):
    x, y = batch
    return F.mse_loss(model(x), y)


def fit(out_dir: Path, *, epochs: int = 1, resume: bool = False):
    torch.manual_seed(0)
    trainer = Trainer(torch.nn.Linear(2, 1), loss_fn, TrainConfig(epochs=epochs, progress="none"),
                      out_dir=out_dir)
    return trainer, trainer.fit(loader(), resume=resume)


def temp_like_the_writer(run: Path, suffix: str = "k1ll3d_9", mtime: float = OLD) -> Path:
    path = run / f".{CHECKPOINT_NAME}.{suffix}.tmp"
    path.write_bytes(b"PK\x03\x04 half a checkpoint")
    os.utime(path, (mtime, mtime))
    return path


# ---- stale temporary files -------------------------------------------------------------------
def test_a_killed_writers_temp_file_is_removed_at_the_next_start_and_nothing_else(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    stale = temp_like_the_writer(run)
    young = temp_like_the_writer(run, "y0ung_ab", mtime=time.time())  # may be a writer's, starting
    kept = [young]
    for name in (f".{CHECKPOINT_NAME}.k1ll3d_9.tmp.bak", "notes.tmp", ".other.pt.k1ll3d_9.tmp",
                 f".{CHECKPOINT_NAME}.tmp", f"{CHECKPOINT_NAME}.k1ll3d_9.tmp"):
        (run / name).write_bytes(b"not the writer's")
        os.utime(run / name, (OLD, OLD))
        kept.append(run / name)
    target = tmp_path / "elsewhere.txt"
    target.write_text("a symlink's target is never touched")
    link = run / f".{CHECKPOINT_NAME}.l1nk_abc.tmp"
    link.symlink_to(target)
    os.utime(link, (OLD, OLD), follow_symlinks=False)
    kept.append(link)

    fit(run)

    assert not stale.exists()
    assert all(p.is_symlink() or p.exists() for p in kept) and target.exists()
    assert load_checkpoint(run / CHECKPOINT_NAME)["epoch"] == 1


_WRITER = textwrap.dedent("""
    import os, sys, time, torch
    from rnnkit.train import checkpoint

    def stall(fd):  # the payload is in the temp file; stop before the rename, as a kill would
        print("writing", flush=True)
        time.sleep(120)

    checkpoint.os.fsync = stall
    checkpoint.save_checkpoint({"model": {"w": torch.zeros(1000)}}, sys.argv[1])
""")


@pytest.mark.filterwarnings("ignore:resuming with a TrainConfig that differs")  # epochs 1 -> 2
def test_kill_9_during_a_write_leaves_the_old_checkpoint_and_a_temp_file_the_next_start_removes(tmp_path):
    run = tmp_path / "run"
    _, first = fit(run)
    before = (run / CHECKPOINT_NAME).read_bytes()
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(run / CHECKPOINT_NAME)],
                              stdout=subprocess.PIPE, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    try:
        assert writer.stdout.readline().strip() == "writing"
        (temp,) = run.glob(f".{CHECKPOINT_NAME}.*.tmp")
        os.utime(temp, (OLD, OLD))
        # a second run starting in the same folder now: the live writer's file stays
        assert remove_stale_temp_files(run, older_than_s=0) == [] and temp.exists()
    finally:
        writer.kill()  # SIGKILL: no cleanup runs in the writer
        writer.wait(timeout=30)
    assert writer.returncode == -9 and temp.exists()
    assert (run / CHECKPOINT_NAME).read_bytes() == before  # the rename never happened

    _, resumed = fit(run, epochs=2, resume=True)

    assert not temp.exists()
    assert len(resumed.rows) == 2 and resumed.rows[0] == first.rows[0]
    assert load_checkpoint(run / CHECKPOINT_NAME)["epoch"] == 2


# ---- bad checkpoint files --------------------------------------------------------------------
class RunsCode:
    """Unpickling this would create the file ``marker``."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').close()",))


def _bundle_like() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("rnnkit.json", '{"format_version": 1}')
        z.writestr("weights.safetensors", b"\0" * 64)
    return buffer.getvalue()


def _torch_bytes(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def _write(kind: str, path: Path, good: bytes, marker: Path) -> None:
    if kind == "directory":
        path.mkdir()
        return
    data = {
        "empty": b"",
        "truncated": good[: len(good) // 2],
        "cut at the end": good[:-10],
        "garbage": os.urandom(256).replace(b"PK", b"pk").replace(b"\x80", b"\x81") + b"x",
        "garbage zip": b"PK\x03\x04" + os.urandom(200),
        "raw pickle with code": pickle.dumps(RunsCode(marker)),
        "torch pickle with code": _torch_bytes({"format_version": 1, "model": RunsCode(marker)}),
        "model file": _bundle_like(),
        "foreign dict": _torch_bytes({"weights": torch.zeros(3)}),
        "foreign tensor": _torch_bytes(torch.zeros(3)),
        "newer format": _torch_bytes({"format_version": 99}),
        "huge format": _torch_bytes({"format_version": 10**5000}),
        "incomplete": _torch_bytes({"format_version": 1, "model": {}}),
    }[kind]
    path.write_bytes(data)


EXPECTED = {
    "empty": "got an empty file (0 bytes)",
    "truncated": "got a zip archive cut short or damaged (its directory does not read): the write",
    "cut at the end": "got a zip archive cut short or damaged",
    "garbage": "got a file that starts with ",
    "garbage zip": "got a zip archive cut short or damaged",
    "raw pickle with code": "got a raw pickle, not torch's zip archive (refused unread; nothing in it was run)",
    "torch pickle with code": "got a pickle that names the code exec (refused unread; nothing",
    "model file": "got a zip archive without torch's data.pkl, another program's file (it holds "
                  "'rnnkit.json', 'weights.safetensors')",
    "foreign dict": "got another program's file (a torch dict without rnnkit's format_version)",
    "foreign tensor": "got another program's file (a torch Tensor",
    "newer format": "got format_version 99 (this rnnkit reads 1; a newer rnnkit wrote it",
    "huge format": "got a pickle that names objects a checkpoint never holds (refused",
    "incomplete": "got one without optimizer, scheduler, scaler and 9 more (",
    "directory": "got a directory",
}


@pytest.fixture(scope="module")
def good_checkpoint(tmp_path_factory) -> bytes:
    run = tmp_path_factory.mktemp("good")
    fit(run)
    return (run / CHECKPOINT_NAME).read_bytes()


@pytest.mark.parametrize("kind", list(EXPECTED))
def test_a_bad_checkpoint_is_one_clear_line_and_runs_nothing(tmp_path, good_checkpoint, kind):
    run, marker = tmp_path / "run", tmp_path / "code-ran"
    run.mkdir()
    path = run / CHECKPOINT_NAME
    _write(kind, path, good_checkpoint, marker)

    with pytest.raises(BundleError) as err:
        fit(run, resume=True)

    message = str(err.value)
    assert not marker.exists()  # nothing in the file was executed
    assert "\n" not in message and len(message) < 600
    assert message.startswith(f"checkpoint {str(path)!r}: expected ")
    assert EXPECTED[kind] in message and FIX in message
    if path.is_file() and kind != "incomplete":  # its parts are checked by the resume
        with pytest.raises(BundleError):
            load_checkpoint(path)  # the same refusal without a trainer around it
    assert not marker.exists()


def test_a_checkpoint_of_another_model_names_the_mismatch(tmp_path):
    run = tmp_path / "run"
    fit(run)
    torch.manual_seed(0)
    other = Trainer(torch.nn.Linear(3, 1), loss_fn, TrainConfig(epochs=1, progress="none"), out_dir=run)
    with pytest.raises(ConfigError) as err:
        other.fit(loader(), resume=True)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"resume from {str(run / CHECKPOINT_NAME)!r}: expected weights of this "
                              "model, got weights that do not fit it (Error(s) in loading state_dict")
    assert "resume with the model settings of that run" in message


def test_a_good_checkpoint_still_round_trips(tmp_path):
    path = save_checkpoint({"model": {"w": torch.arange(3.0)}, "epoch": 4}, tmp_path / CHECKPOINT_NAME)
    ckpt = load_checkpoint(path)
    assert ckpt["epoch"] == 4 and torch.equal(ckpt["model"]["w"], torch.arange(3.0))
    assert not list(tmp_path.glob(".*.tmp"))  # the writer leaves no temporary file
    assert isinstance(BundleError("x"), RnnkitError)
