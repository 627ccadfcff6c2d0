"""rnnkit's CPU fast paths: C++ kernels compiled on first use (``torch.utils.cpp_extension``).

* :func:`supports` / :func:`run` — training and inference of LSTM/GRU layers with or
  without the extras: the input projection of all steps hoisted into one product, one
  product per step, the gate math and its hand-written BPTT in C++
  (:mod:`rnnkit.nn.cpu.scan`); ``lengths`` and ``proj_size`` fall back to
  :mod:`rnnkit.nn.fast`;
* :class:`Stepper` — streaming inference, one C++ call per time step
  (:mod:`rnnkit.nn.cpu.stepper`);
* :func:`beats_torch` — where ``impl="auto"`` takes :func:`run` without extras (the GRU);
* :func:`available` — whether the kernels are built (builds them on first call).

The plain loop of :mod:`rnnkit.nn.reference` defines the math; ``tests/nn/test_cpu_fast.py``
checks every path here against it (outputs and gradients) and runs gradcheck in float64.
"""

from __future__ import annotations

from rnnkit.nn.cpu import _build
from rnnkit.nn.cpu.stepper import Stepper


def available() -> bool:
    """True when the C++ kernels are built and loaded (compiles them on the first call)."""
    return _build.load() is not None


def supports(layer, batch) -> bool:
    """Whether :func:`run` takes this forward call; see :func:`rnnkit.nn.cpu.scan.supports`."""
    from rnnkit.nn.cpu import scan
    return scan.supports(layer, batch)


def beats_torch(layer, batch) -> bool:
    """Whether ``impl="auto"`` should take :func:`run` even without extras: the GRU on the
    CPU, where torch has no oneDNN kernel and rnnkit's measures faster (see
    docs/performance.md); the LSTM stays on torch's oneDNN kernel."""
    return (layer.mode == "GRU" and batch.packed is None and batch.x.device.type == "cpu"
            and supports(layer, batch))


def run(layer, batch, hx):
    """Drop-in for :func:`rnnkit.nn.fast.run`; see :func:`rnnkit.nn.cpu.scan.run`."""
    from rnnkit.nn.cpu import scan
    return scan.run(layer, batch, hx)


__all__ = ["Stepper", "available", "beats_torch", "supports", "run"]
