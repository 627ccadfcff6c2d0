"""rnnkit's GPU path: fused layer-norm LSTM/GRU scans in Triton with CUDA graphs.

Taken for CUDA float32 input when an extra (layer norm, recurrent dropout, zoneout) rules
out cuDNN. Same math as :mod:`rnnkit.nn.reference` (tested against it for outputs, final
states and gradients); masks are drawn by :func:`rnnkit.nn.masks.draw_masks`, so with the
same seed every path sees the same masks.

* :func:`available` — CUDA present and Triton importable;
* :func:`supports` / :func:`run` — the layer-level dispatch (drop-in for ``fast.run``);
  ``lengths``/packed input, ``proj_size`` and the Elman RNN fall back to ``fast.run``;
* :func:`fused_layer_forward` — one layer and direction;
* :class:`GraphStep` — streaming inference with the state on the GPU, one graph replay a step;
* :class:`FusedStep` — the same with one fused Triton kernel per layer and step (mat-vecs,
  layer norms, gates, zoneout in one kernel), the small-batch streaming path.

Importing this package never needs Triton; the kernels load on first use.
"""

from __future__ import annotations

import importlib.util

import torch


def triton_importable() -> bool:
    return importlib.util.find_spec("triton") is not None


def available() -> bool:
    """True when CUDA is present and Triton importable (the fused path can run)."""
    return torch.cuda.is_available() and triton_importable()


def supports(layer, batch) -> bool:
    """Whether the fused path takes this forward call (CUDA float32, LSTM/GRU, no lengths,
    no projection, Triton available)."""
    if not (batch.x.is_cuda and available()):
        return False
    from rnnkit.nn.gpu import scan
    return scan.supports(layer, batch)


def run(layer, batch, hx):
    """Drop-in for :func:`rnnkit.nn.fast.run`; see :func:`rnnkit.nn.gpu.scan.run`."""
    from rnnkit.nn.gpu import scan
    return scan.run(layer, batch, hx)


def fused_layer_forward(mode, x, state, weights, masks):
    """One layer and direction; see :func:`rnnkit.nn.gpu.scan.fused_layer_forward`."""
    from rnnkit.nn.gpu import scan
    return scan.fused_layer_forward(mode, x, state, weights, masks)


def GraphStep(layer, batch: int = 1):  # noqa: N802 - a factory that reads as the class
    """Streaming stepper; see :class:`rnnkit.nn.gpu.graphs.GraphStep`."""
    from rnnkit.nn.gpu import graphs
    return graphs.GraphStep(layer, batch)


def FusedStep(layer, batch: int = 1, capture: bool = True):  # noqa: N802
    """Streaming stepper, one kernel per layer; see :class:`rnnkit.nn.gpu.stream.FusedStep`."""
    from rnnkit.nn.gpu import stream
    return stream.FusedStep(layer, batch, capture)
