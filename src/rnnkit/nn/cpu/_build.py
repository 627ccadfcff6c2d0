"""Build (on first use) and load the C++ kernels of :mod:`rnnkit.nn.cpu`.

``torch.utils.cpp_extension.load`` compiles ``kernels.cpp`` into a cache directory
(``$RNNKIT_CACHE`` or ``~/.cache/rnnkit``), once per source, compiler flags, CPU model and
torch version (the kernels are compiled with ``-march=native``). Any failure (no compiler,
no ninja, a read-only cache) is remembered and :func:`load` returns None: callers fall back
to :mod:`rnnkit.nn.fast`. ``RNNKIT_CPU_KERNELS=0`` turns the kernels off.
"""

from __future__ import annotations

import hashlib
import os
import platform
import time
import warnings
from pathlib import Path

import torch

HERE = Path(__file__).parent
SOURCES = [HERE / "kernels.cpp"]
HEADERS = [HERE / "stream.h"]
CFLAGS = ["-O3", "-march=native", "-ffast-math", "-fopenmp", "-fopenmp-simd"]
_state: dict = {}


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("model name", "flags")):
                return line
    except OSError:
        pass
    return platform.processor()


def _name() -> str:
    digest = hashlib.sha1()
    for p in SOURCES + HEADERS:
        digest.update(p.read_bytes())
    digest.update(" ".join(CFLAGS + [torch.__version__, _cpu_model(), str(HERE)]).encode())  # a
    # checkout of its own: two clones never rebuild one folder over each other
    return f"rnnkit_cpu_{digest.hexdigest()[:12]}"


def cache_dir() -> Path:
    root = Path(os.environ.get("RNNKIT_CACHE", Path.home() / ".cache" / "rnnkit"))
    return root / "cpu_ext"


def load(verbose: bool = False):
    """The compiled module, or None when the kernels are off or cannot be built."""
    if "module" in _state:
        return _state["module"]
    module = None
    if os.environ.get("RNNKIT_CPU_KERNELS", "1") != "0":
        try:
            from torch.utils import cpp_extension

            build = cache_dir() / _name()
            build.mkdir(parents=True, exist_ok=True)
            _drop_stale_lock(build / "lock")
            module = cpp_extension.load(name=_name(), sources=[str(p) for p in SOURCES],
                                        extra_cflags=CFLAGS, extra_ldflags=["-fopenmp"],
                                        extra_include_paths=[str(HERE)],
                                        build_directory=str(build), verbose=verbose)
        except Exception as exc:  # any build failure: fall back to the Python fast path
            warnings.warn(f"rnnkit: CPU kernels unavailable ({type(exc).__name__}: "
                          f"{str(exc).splitlines()[0] if str(exc) else ''}); using the "
                          "Python fast path", RuntimeWarning, stacklevel=2)
            module = None
    _state["module"] = module
    return module


STALE_LOCK_SECONDS = 600  # a build takes about a minute; an older lock is a killed build's


def _drop_stale_lock(lock: Path) -> None:
    """Remove the build lock a killed process left behind (torch waits on it forever)."""
    try:
        if lock.exists() and time.time() - lock.stat().st_mtime > STALE_LOCK_SECONDS:
            lock.unlink()
    except OSError:
        pass
