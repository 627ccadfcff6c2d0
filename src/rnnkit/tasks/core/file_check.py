"""A model file checked against its task before any weight is read: :func:`check_model_file`.

:func:`rnnkit.load` hands this check to :func:`rnnkit.bundle.read_bundle`, which calls it
once ``rnnkit.json`` and the safetensors header are read — the file's settings,
preprocessing state and the name, dtype and shape of every tensor are known, no tensor
data is in memory. Each step refuses with one :class:`~rnnkit.errors.BundleError` line
that names the field, what was expected, what the file holds and the fix:

1. ``config["settings"]`` and the config / preprocessing keys the task declares
   (``Estimator.FILE_CONFIG`` / ``FILE_PREPROCESSING``) are present with their JSON type.
2. The settings pass the task's declared checks (:meth:`Settings.validate`), the same that
   ``fit`` runs: ranges with upper bounds (:mod:`~rnnkit.tasks.core.limits`), a device
   that computes (not ``"meta"``), a valid frequency.
3. The task's own checks of what would load but answer wrongly (duplicate column or label
   names, a bad frequency, scalers of the wrong length …): ``Estimator._check_file_parts``,
   which also names the tensors the file may hold besides the network.
4. The network the settings imply is built on PyTorch's ``meta`` device (no memory) by
   ``Estimator._file_network`` — the same builder ``_restore`` uses — and its parameters
   and buffers must fit :data:`~rnnkit.tasks.core.limits.MAX_PARAMETER_BYTES`.
5. The file's tensors are exactly that network's (under ``Estimator.TENSOR_PREFIX``) plus
   the allowed extras: no tensor missing, none extra, each with the expected dtype and
   shape — so a GRU config with LSTM weights, int8 or bool weights are refused, never
   converted.

A structure the task cannot read (a list where a dict belongs, a missing inner key) is
refused the same way by :func:`file_errors`, here and while the task restores itself.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

import torch

from rnnkit.bundle import TensorSpec
from rnnkit.errors import BundleError, RnnkitError, problem
from rnnkit.tasks.core.limits import MAX_PARAMETER_BYTES

EDITED = "the file was edited or damaged: save the model again from the estimator that fitted it"
_JSON_TYPES = {dict: "an object", list: "a list", str: "a string", int: "an integer",
               float: "a number", bool: "true or false", type(None): "null"}


@dataclass(frozen=True)
class Extra:
    """A tensor a model file may hold besides the network's: its dtype names and shape
    (``None`` for any size along a dimension); ``required`` when it must be present."""

    dtypes: tuple[str, ...]
    shape: tuple[int | None, ...]
    required: bool = False

    def accepts(self, spec: TensorSpec) -> bool:
        return spec.dtype in self.dtypes and len(spec.shape) == len(self.shape) and all(
            want is None or want == got for want, got in zip(self.shape, spec.shape))

    def describe(self) -> str:
        dims = ", ".join("N" if d is None else str(d) for d in self.shape)
        return f"{'/'.join(self.dtypes)} shape ({dims}{',' if len(self.shape) == 1 else ''})"


def check_model_file(cls: type, meta: Any, specs: dict[str, TensorSpec]) -> None:
    """Check the model file ``meta`` (a :class:`~rnnkit.bundle.Bundle` without tensors) and
    its tensors' ``specs`` against task class ``cls``; see the module docstring.

    Raises:
        BundleError: the first thing in the file that this task would not load as written.
    """
    who = cls.Config.WHO
    with file_errors(who):
        _check_keys(who, meta, cls)
        try:
            est = cls(**cls._settings_from_file(dict(meta.config["settings"])))
            est.config.validate()
        except RnnkitError as err:  # the settings' own message names the estimator
            raise BundleError(str(err)) from None
        extras = est._check_file_parts(meta, specs)
        with torch.device("meta"):
            network = est._file_network(meta, specs)
        expected = {cls.TENSOR_PREFIX + k: TensorSpec.of(v) for k, v in network.state_dict().items()}
    _check_size(who, expected)
    _compare(who, expected, extras, specs)


@contextlib.contextmanager
def file_errors(who: str) -> Iterator[None]:
    """Turn what a task's reading code raises on a malformed file (KeyError, TypeError …)
    into one BundleError line; rnnkit's own errors pass through."""
    try:
        yield
    except RnnkitError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError) as err:
        detail = f"missing key {err}" if isinstance(err, KeyError) else f"{type(err).__name__}: {err}"
        raise BundleError(problem(f"{who}: config or preprocessing", expected="the structure "
                                  "this rnnkit writes", got=detail[:200], fix=EDITED)) from None


def require(who: str, where: str, value: Any, kind: type | tuple[type, ...]) -> Any:
    """``value`` when it has JSON type ``kind``; a BundleError naming ``where`` otherwise."""
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, bool) and bool not in kinds:
        ok = False
    else:
        ok = isinstance(value, kinds)
    if not ok:
        expected = " or ".join(_JSON_TYPES.get(k, k.__name__) for k in kinds)
        raise BundleError(problem(f"{who}: {where}", expected=expected,
                                  got=_json_type(value), fix=EDITED))
    return value


def unique_names(who: str, where: str, names: Iterable[Any], *, at_least: int = 0,
                 kinds: tuple[type, ...] = (str,)) -> list:
    """``names`` as a list of ``at_least`` or more distinct non-empty values of ``kinds``
    (strings by default), else a BundleError naming the first repeated one (a repeated name
    would route values to the wrong column or label)."""
    names = require(who, where, names, list)
    if len(names) < at_least:
        raise BundleError(problem(f"{who}: {where}", expected=f"at least {at_least} names",
                                  got=len(names), fix=EDITED))
    seen: set = set()
    for name in names:
        if not isinstance(name, kinds) or name == "" or (isinstance(name, float) and not math.isfinite(name)):
            what = "non-empty strings" if kinds == (str,) else "labels (str, int, float or bool)"
            raise BundleError(problem(f"{who}: {where}", expected=what, got=repr(name)[:80], fix=EDITED))
        if name in seen:
            raise BundleError(problem(f"{who}: {where}", expected="distinct names",
                                      got=f"{name!r} more than once"[:120], fix=EDITED))
        seen.add(name)
    return names


def finite_numbers(who: str, where: str, values: Any, n: int | None = None, *,
                   positive: bool = False) -> list:
    """``values`` as a flat list of finite numbers (``n`` of them, > 0 with ``positive``)."""
    flat = _flatten(who, where, values)
    if n is not None and len(flat) != n:
        raise BundleError(problem(f"{who}: {where}", expected=f"{n} numbers", got=len(flat), fix=EDITED))
    for v in flat:
        bad = isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v)
        if bad or (positive and v <= 0):
            raise BundleError(problem(f"{who}: {where}", expected="finite numbers" +
                                      (" > 0" if positive else ""), got=repr(v), fix=EDITED))
    return flat


def _flatten(who: str, where: str, values: Any, depth: int = 0) -> list:
    if not isinstance(values, list):
        return [values]
    if depth > 4:
        raise BundleError(problem(f"{who}: {where}", expected="at most 4 nested lists",
                                  got="deeper", fix=EDITED))
    return [v for item in values for v in _flatten(who, where, item, depth + 1)]


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _check_keys(who: str, meta: Any, cls: type) -> None:
    """``settings`` and the task's declared config / preprocessing keys, with their types."""
    sections = (("config", meta.config, {"settings": dict, **cls.FILE_CONFIG}),
                ("preprocessing", meta.preprocessing, cls.FILE_PREPROCESSING))
    for section, values, keys in sections:
        for key, kind in keys.items():
            if key not in values:
                raise BundleError(problem(f"{who}: {section} key {key!r}", expected="present",
                                          got="missing", fix=EDITED))
            require(who, f"{section} key {key!r}", values[key], kind)


def _check_size(who: str, expected: dict[str, TensorSpec]) -> None:
    total = sum(spec.nbytes for spec in expected.values())
    if total > MAX_PARAMETER_BYTES:
        raise BundleError(problem(
            f"{who}: the network its settings imply", expected=f"at most "
            f"{MAX_PARAMETER_BYTES / 1024**3:g} GiB of parameters", got=f"{total / 1024**3:.1f} GiB",
            fix="rnnkit bounds a model's size so that loading cannot exhaust memory; "
                "fit a smaller model (hidden_size, num_layers, vocabulary)"))


def _compare(who: str, expected: dict[str, TensorSpec], extras: dict[str, Extra],
             specs: dict[str, TensorSpec]) -> None:
    """Every expected tensor present with its dtype and shape, extras as declared, nothing else."""
    fix = "the weights do not match the file's settings (cell, sizes, layers); " + EDITED
    for name, want in expected.items():
        got = specs.get(name)
        if got is None:
            raise BundleError(problem(f"{who}: tensor {name!r}", expected=f"present, {_show(want)}",
                                      got="missing", fix=fix))
        if got != want:
            raise BundleError(problem(f"{who}: tensor {name!r}", expected=_show(want),
                                      got=_show(got), fix=fix))
    for name, extra in extras.items():
        if extra.required and name not in specs:
            raise BundleError(problem(f"{who}: tensor {name!r}", expected=f"present, "
                                      f"{extra.describe()}", got="missing", fix=EDITED))
    for name, got in specs.items():
        if name in expected:
            continue
        if name not in extras:
            raise BundleError(problem(f"{who}: tensor {name!r}", expected="no such tensor "
                                      f"(the network has {len(expected)}, e.g. {next(iter(expected), '-')!r})",
                                      got=_show(got), fix=EDITED))
        if not extras[name].accepts(got):
            raise BundleError(problem(f"{who}: tensor {name!r}", expected=extras[name].describe(),
                                      got=_show(got), fix=EDITED))


def _show(spec: TensorSpec) -> str:
    return f"{spec.dtype} shape {spec.shape}"
