"""Shared tools of the hostile-input tests: a model loaded in a fresh process with its
peak memory measured, and model files rewritten the way an attacker would."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

# Load PATH in a fresh interpreter. Peak resident memory (ru_maxrss, KiB on Linux) is read
# after every import rnnkit.load needs has happened, then after the load: the difference
# is what the file itself cost.
_LOADER = textwrap.dedent("""
    import json, resource, sys, traceback
    import torch, rnnkit, rnnkit.tasks, rnnkit.bundle
    import pandas, numpy
    path, keys = sys.argv[1], json.loads(sys.argv[2])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    answer = {"ok": False, "error": None, "kind": None, "traceback": None}
    try:
        model = rnnkit.load(path, trusted_keys=keys) if keys else rnnkit.load(path)
        answer["ok"] = True
    except rnnkit.errors.RnnkitError as err:
        answer["error"], answer["kind"] = str(err), type(err).__name__
    except BaseException as err:
        answer["error"], answer["kind"] = str(err), type(err).__name__
        answer["traceback"] = traceback.format_exc()
    answer["rss_delta_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(json.dumps(answer))
""")


def load_in_subprocess(path: str | os.PathLike, trusted_keys: list[str] | None = None,
                       timeout: float = 120) -> dict:
    """``{"ok", "error", "kind", "traceback", "rss_delta_kib"}`` of ``rnnkit.load(path)`` run
    in a fresh process (``traceback`` is set only for an error that is not an RnnkitError)."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", _LOADER, str(path), json.dumps(trusted_keys or [])],
                          capture_output=True, text=True, timeout=timeout, env=env)
    if done.returncode != 0 or not done.stdout.strip():
        return {"ok": False, "error": done.stderr[-2000:], "kind": "crash",
                "traceback": done.stderr[-4000:], "rss_delta_kib": None}
    return json.loads(done.stdout.strip().splitlines()[-1])


def rewrite(src: Path, dst: Path, members: dict[str, bytes | None] | None = None, *,
            compress: dict[str, int] | None = None) -> Path:
    """Copy the zip ``src`` to ``dst`` with some members replaced (bytes) or dropped (None),
    as an attacker who edits the archive would (no digest is recomputed)."""
    members, compress = members or {}, compress or {}
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        names = list(dict.fromkeys(zin.namelist() + list(members)))
        for name in names:
            data = members[name] if name in members else zin.read(name)
            if data is None:
                continue
            zout.writestr(name, data, compress_type=compress.get(name, zipfile.ZIP_DEFLATED))
    return dst


def daily_frame(n: int = 200) -> pd.DataFrame:
    """A daily series with a weekly cycle and one covariate."""
    t = np.arange(n)
    rng = np.random.default_rng(0)
    return pd.DataFrame({"date": pd.date_range("2024-01-01", periods=n, freq="D"),
                         "y": 10 + np.sin(2 * np.pi * t / 7) + 0.1 * rng.normal(size=n),
                         "x": np.cos(2 * np.pi * t / 7)})


@contextlib.asynccontextmanager
async def serving(**config):
    """An in-process server (its lifespan run) and an async client; server errors come
    back as 500 answers instead of being raised, as a real client would see them."""
    from rnnkit.serve import ServeConfig, create_app

    app = create_app(ServeConfig(**config))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            client.app = app
            yield client
