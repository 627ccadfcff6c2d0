"""Parity checks: run an exported graph in onnxruntime and compare it with torch.

The check feeds random inputs at a (batch, length) different from the one used for
tracing, so a graph whose batch or length axis got fixed at export fails it.

* sequence graph: one call, every output compared with the torch network's;
* step graph: the sequence is fed one step at a time from a zero state, each step's
  outputs compared with the torch network run on the whole sequence so far.
"""

from __future__ import annotations

import numpy as np
import torch

from rnnkit.errors import ConfigError

CHECK_BATCH, CHECK_LENGTH = 3, 11  # differ from the tracing example (2, 5)
INSTALL = 'pip install "rnnkit[export]"'


def require(module: str):
    """Import ``onnx`` or ``onnxruntime`` or raise a clear error naming the extra."""
    try:
        return __import__(module)
    except ImportError:
        raise ConfigError(f"ONNX export needs the {module} package, which is not installed "
                          f"({INSTALL})") from None


def session(path):
    ort = require("onnxruntime")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3  # no shape-hint warnings on dynamic outputs
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def _max_diff(got, want) -> float:
    want = want.detach().numpy() if isinstance(want, torch.Tensor) else want
    if got.shape != want.shape:
        return float("inf")
    return float(np.abs(got.astype(np.float64) - want.astype(np.float64)).max(initial=0.0))


def check_sequence(path, adapter, seed: int = 1) -> float:
    """Max abs difference of every output at (CHECK_BATCH, CHECK_LENGTH)."""
    gen = torch.Generator().manual_seed(seed)
    inputs = adapter.example(CHECK_BATCH, CHECK_LENGTH, gen)
    feeds = {name: t.numpy() for name, t in zip(adapter.seq_inputs, inputs)}
    got = session(path).run(adapter.seq_outputs, feeds)
    want = adapter.reference(inputs)
    return max(_max_diff(g, w) for g, w in zip(got, want))


def check_step(path, adapter, seed: int = 1) -> float:
    """Feed a sequence step by step in onnxruntime; max abs difference with torch."""
    gen = torch.Generator().manual_seed(seed)
    streams, consts = adapter.step_example(CHECK_BATCH, CHECK_LENGTH, gen)
    want = adapter.step_reference(streams, consts)
    names, state_names = adapter.step_io(), adapter.state_names()
    outputs = names[2] + [f"{s}_next" for s in state_names]
    state = [s.numpy() for s in adapter.zero_state(CHECK_BATCH)]
    sess, diff = session(path), 0.0
    for t in range(CHECK_LENGTH):
        feeds = {k: v[:, t].numpy() for k, v in streams.items()}
        feeds.update({k: v.numpy() for k, v in consts.items()})
        feeds.update(dict(zip(state_names, state)))
        got = sess.run(outputs, feeds)
        for name, value in zip(names[2], got):
            diff = max(diff, _max_diff(value, want[name][:, t]))
        state = got[len(names[2]):]
    return diff
