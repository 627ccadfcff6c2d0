"""A build lock left by a killed process is dropped; a fresh one (a build in progress) stays."""

import os
import time

from rnnkit.nn.cpu import _build


def test_a_stale_lock_is_dropped_and_a_fresh_one_kept(tmp_path):
    lock = tmp_path / "lock"
    lock.touch()
    _build._drop_stale_lock(lock)
    assert lock.exists()  # a build may be running
    old = time.time() - _build.STALE_LOCK_SECONDS - 5
    os.utime(lock, (old, old))
    _build._drop_stale_lock(lock)
    assert not lock.exists()
