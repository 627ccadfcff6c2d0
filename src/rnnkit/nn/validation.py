"""Checks of layer arguments and inputs; every message says what, expected, got and fix."""

from __future__ import annotations

import math
import warnings

import torch
from torch import Tensor

from rnnkit.errors import ConfigError, DataError, ShapeError, problem


def check_positive_int(name: str, value, owner: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(problem(f"{owner}: {name}", expected="an integer >= 1", got=repr(value)))


def check_probability(name: str, value, owner: str, *, allow_one: bool = True) -> None:
    """``value`` must be a number in [0, 1] (or [0, 1) when ``allow_one`` is False)."""
    upper = "1]" if allow_one else "1)"
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and 0.0 <= value <= 1.0 and (allow_one or value < 1.0)
    if not ok:
        raise ConfigError(problem(f"{owner}: {name}", expected=f"a probability in [0, {upper}",
                                  got=repr(value), fix=f"pass {name}=0.1, say, or 0 to turn it off"))


def check_layer_args(owner: str, input_size, hidden_size, num_layers, dropout, proj_size,
                     recurrent_dropout, zoneout, nonlinearity) -> None:
    """Validate constructor arguments the way torch.nn.RNNBase does, with clearer errors."""
    check_positive_int("input_size", input_size, owner)
    check_positive_int("hidden_size", hidden_size, owner)
    check_positive_int("num_layers", num_layers, owner)
    check_probability("dropout", dropout, owner)
    check_probability("recurrent_dropout", recurrent_dropout, owner, allow_one=False)
    check_probability("zoneout", zoneout, owner, allow_one=False)
    if isinstance(proj_size, bool) or not isinstance(proj_size, int) or not 0 <= proj_size < hidden_size:
        raise ConfigError(problem(f"{owner}: proj_size", expected=f"an integer in [0, hidden_size="
                                  f"{hidden_size})", got=repr(proj_size), fix="use 0 for no projection"))
    if nonlinearity not in ("tanh", "relu"):
        raise ConfigError(problem(f"{owner}: nonlinearity", expected="'tanh' or 'relu'",
                                  got=repr(nonlinearity)))
    if dropout > 0 and num_layers == 1:
        warnings.warn(f"{owner}: dropout={dropout} acts between layers and has no effect with "
                      "num_layers=1 (use recurrent_dropout or zoneout to regularise one layer)",
                      stacklevel=3)


def check_features(x: Tensor, expected: int, dtype: torch.dtype, owner: str) -> None:
    """The last dimension must be ``input_size`` and the dtype the parameters' dtype."""
    if x.shape[-1] != expected:
        raise ShapeError(problem(f"{owner}: input feature size", expected=f"input_size={expected}",
                                 got=f"{x.shape[-1]} (input shape {tuple(x.shape)})",
                                 fix=f"set input_size={x.shape[-1]} or check the input's last axis"))
    if x.dtype != dtype:
        raise ShapeError(problem(f"{owner}: input dtype", expected=f"{dtype} (the parameters' dtype)",
                                 got=str(x.dtype), fix=f"convert the input with .to({dtype}) or "
                                 f"the layer with .to({x.dtype})"))


def check_finite(x: Tensor, what: str, owner: str) -> None:
    """Refuse NaN or infinity with the position of the first bad value."""
    bad = ~torch.isfinite(x)
    if bool(bad.any()):
        where = tuple(int(i) for i in bad.nonzero()[0].tolist())
        raise DataError(problem(f"{owner}: {what}", expected="finite values",
                                got=f"{x[where].item()} at index {where}",
                                fix="fill or drop missing values before the model"))


def check_state(h: Tensor, expected: tuple[int, ...], what: str, owner: str) -> None:
    if not isinstance(h, Tensor):
        raise ShapeError(problem(f"{owner}: {what}", expected="a Tensor", got=type(h).__name__))
    if tuple(h.shape) != expected:
        raise ShapeError(problem(f"{owner}: {what} shape", expected=expected, got=tuple(h.shape),
                                 fix="shape is (num_layers * num_directions, N, size)"))
