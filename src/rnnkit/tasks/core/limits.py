"""Upper bounds of the settings that size a network or a buffer, shared by every task.

A setting such as ``hidden_size`` or ``lookback`` decides how much memory a model takes
when it is fitted, loaded or served. Without an upper bound a model file that says
``hidden_size=12000`` or ``lookback=3e7`` asks for gigabytes before anything can refuse
it, so every such setting declares one of the bounds below. They are generous — far
beyond what a recurrent model on one machine trains well with — and the same check runs
in ``fit`` (a :class:`~rnnkit.errors.ConfigError`) and in :func:`rnnkit.load` (a
:class:`~rnnkit.errors.BundleError`), so a model that fits always loads::

    hidden_size: int = setting(64, Int(1, MAX_WIDTH, fix=BOUND_FIX))
    lookback: int = setting(56, bounded(1, MAX_STEPS))          # the same, shorter

:data:`MAX_PARAMETER_BYTES` bounds the whole network a model file's settings imply,
checked on a network built without memory (on PyTorch's ``meta`` device) before any
weight is read.
"""

from __future__ import annotations

from rnnkit.tasks.core.checks import Int, Real

MAX_WIDTH = 4096  # hidden_size, embedding_dim, attention_size, conv_channels
MAX_LAYERS = 16  # num_layers (stacked recurrent layers)
MAX_STEPS = 100_000  # lookback, horizon, window, seasonal period: time steps
MAX_TOKENS = 1_000_000  # max lengths of texts and prompts, in tokens
MAX_VOCAB = 1_000_000  # vocabulary sizes (max_vocab, bpe_vocab_size)
MAX_BEAM = 1024  # beam widths of decoders
MAX_COUNT = 10_000_000  # buffer sizes, epochs, batch sizes: counts of things
MAX_PARAMETER_BYTES = 4 * 1024**3  # parameters and buffers of the network a file implies

BOUND_FIX = ("rnnkit bounds the settings that size a model so that neither fit nor a "
             "model file can demand unbounded memory; use a value in range")


def bounded(low: int, high: int, *, optional: bool = False) -> Int:
    """An :class:`Int` check in ``[low, high]`` whose message explains the upper bound."""
    return Int(low, high, optional=optional, fix=BOUND_FIX)


def bounded_real(low: float, high: float, *, low_open: bool = False, optional: bool = False) -> Real:
    """A :class:`Real` check in ``[low, high]`` (``(low, high]`` with ``low_open``) whose
    message explains the upper bound."""
    return Real(low, high, low_open=low_open, optional=optional, fix=BOUND_FIX)
