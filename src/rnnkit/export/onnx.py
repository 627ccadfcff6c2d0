"""``to_onnx``: write an estimator's network (or a bare rnnkit layer) as an ONNX graph and
check it against torch in onnxruntime.

>>> report = rnnkit.export.to_onnx(forecaster, "weather.onnx")              # doctest: +SKIP
>>> report = rnnkit.export.to_onnx(forecaster, "weather-step.onnx", kind="step")  # doctest: +SKIP

Graphs are written with torch's TorchScript-based exporter (``dynamo=False``): it maps a
``torch.nn`` LSTM/GRU/RNN to ONNX's own operator and a scripted time loop to an ONNX
``Loop`` with a dynamic trip count (see :mod:`rnnkit.export.layers`).
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from rnnkit._version import __version__
from rnnkit.errors import ConfigError, RnnkitError, problem, unknown_name
from rnnkit.export import parity
from rnnkit.export.base import Adapter, adapter_for

KINDS = ("sequence", "step")
DEFAULT_OPSET = 17  # LayerNormalization is an ONNX op from 17; the TorchScript exporter goes to 20
TRACE_BATCH, TRACE_LENGTH = 2, 5


class ParityError(RnnkitError, AssertionError):
    """The exported graph disagrees with torch beyond the tolerance."""


@dataclass
class ExportReport:
    """What :func:`to_onnx` wrote and measured."""

    path: Path
    kind: str
    task: str | None
    inputs: dict[str, list]  # name -> shape, symbolic axes as strings
    outputs: dict[str, list]
    forms: list[str] = field(default_factory=list)  # per layer: native operator or Loop
    opset: int = DEFAULT_OPSET
    max_abs_diff: float | None = None  # onnxruntime vs torch; None when not checked
    atol: float = 1e-4
    checked_at: tuple[int, int] | None = None  # (batch, length) of the check
    traced_at: tuple[int, int] = (TRACE_BATCH, TRACE_LENGTH)  # (batch, length) of the trace

    def __str__(self) -> str:
        shape = lambda s: "(" + ", ".join(map(str, s)) + ")"  # noqa: E731
        lines = [f"wrote {self.path} ({self.kind} graph, opset {self.opset}"
                 + (f", task {self.task})" if self.task else ")")]
        lines += [f"  input  {k} {shape(v)}" for k, v in self.inputs.items()]
        lines += [f"  output {k} {shape(v)}" for k, v in self.outputs.items()]
        lines += [f"  layers: {', '.join(self.forms)}"] if self.forms else []
        if self.max_abs_diff is None:
            lines.append("  parity: not checked (check=False)")
        else:
            b, n = self.checked_at
            lines.append(f"  parity: max |onnxruntime - torch| = {self.max_abs_diff:.2e} "
                         f"<= {self.atol:g} at batch {b}, length {n} (traced at "
                         f"{self.traced_at[0]}, {self.traced_at[1]})")
        return "\n".join(lines)


def _network(model) -> tuple[nn.Module, object | None]:
    """``(network, estimator or None)`` for an estimator, a network or a layer."""
    if isinstance(model, nn.Module):
        return model, None
    net = getattr(model, "model_", None)
    if isinstance(net, nn.Module):
        return net, model
    if hasattr(model, "task_name"):
        from rnnkit.errors import NotFittedError
        raise NotFittedError(f"export: this {type(model).__name__} is not fitted; call fit() first")
    raise ConfigError(problem("export: model", expected="an rnnkit estimator, its model_ or an "
                              "rnnkit.nn layer", got=type(model).__name__))


def _bundle_metadata(estimator) -> dict[str, str]:
    """Task name, config and preprocessing as the estimator's model file holds them."""
    from rnnkit.bundle import read_bundle

    with tempfile.TemporaryDirectory() as tmp:
        bundle = read_bundle(estimator.save(Path(tmp) / "model.rnnkit"))
    return {"rnnkit.task": bundle.task, "rnnkit.config": json.dumps(bundle.config),
            "rnnkit.preprocessing": json.dumps(bundle.preprocessing)}


def _plan(adapter: Adapter, kind: str):
    """``(module, example inputs, input names, output names, dynamic axes, forms)``."""
    gen = torch.Generator().manual_seed(0)
    if kind == "sequence":
        module, forms = adapter.sequence_module()
        example = adapter.example(TRACE_BATCH, TRACE_LENGTH, gen)
        return (module, example, adapter.seq_inputs, adapter.seq_outputs, adapter.seq_axes(), forms)
    module = adapter.step_module()
    streams, consts, results = adapter.step_io()
    states = adapter.state_names()
    s, c = adapter.step_example(TRACE_BATCH, TRACE_LENGTH, gen)
    example = tuple(s[k][:, 0] for k in streams) + tuple(c[k] for k in consts)
    example += tuple(adapter.zero_state(TRACE_BATCH))
    names_in, names_out = streams + consts + states, results + [f"{n}_next" for n in states]
    axes = {n: {0: "batch"} for n in names_in + names_out}
    for n in ("h", "c", "h_next", "c_next"):
        axes[n] = {1: "batch"}
    return module, example, names_in, names_out, axes, ["step: one scripted step"]


def _shapes(graph, which) -> dict[str, list]:
    out = {}
    for v in which:
        dims = v.type.tensor_type.shape.dim
        out[v.name] = [d.dim_param or d.dim_value for d in dims]
    return out


def _write(module, example, names_in, names_out, axes, path: Path, opset: int) -> list:
    """Trace and export; returns the example's output shapes."""
    traced_axes = {k: v for k, v in axes.items() if k in names_in + names_out}
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(module, example, check_trace=False)
        torch.onnx.export(traced, example, str(path), dynamo=False, opset_version=opset,
                          input_names=names_in, output_names=names_out,
                          dynamic_axes=traced_axes, do_constant_folding=True)
        with torch.no_grad():
            return [tuple(t.shape) for t in module(*example)]


def _name_output_dims(graph, shapes: list, axes: dict) -> None:
    """Give every output its fixed sizes and the symbolic names of its dynamic axes
    (the exporter leaves sizes it cannot infer through a Loop as generated names)."""
    for value, shape in zip(graph.graph.output, shapes):
        dynamic = axes.get(value.name, {})
        for i, dim in enumerate(value.type.tensor_type.shape.dim):
            if i in dynamic:
                dim.dim_param = dynamic[i]
            else:
                dim.dim_value = shape[i]


def to_onnx(model, path, *, kind: str = "sequence", opset: int | None = None, check: bool = True,
            atol: float = 1e-4) -> ExportReport:
    """Export ``model`` (a fitted estimator, its ``model_``, or an ``rnnkit.nn`` layer) to
    the ONNX file ``path`` and return an :class:`ExportReport`.

    ``kind="sequence"``: the whole network, dynamic ``batch`` and ``length`` axes.
    ``kind="step"``: one time step with the recurrent state as inputs ``h`` (``c``) and
    outputs ``h_next`` (``c_next``), dynamic ``batch`` — for streaming.

    With ``check`` the graph runs in onnxruntime on random inputs at another batch and
    length than traced and must match torch within ``atol``; otherwise :class:`ParityError`
    is raised with the measured difference (the file is kept for inspection).
    The ONNX ``metadata_props`` hold the task, each input's meaning and, for an
    estimator, its config and preprocessing (scalers, columns, classes) as JSON.

    Raises:
        ConfigError: unknown ``kind``; a network rnnkit cannot export; ``kind="step"`` for a
            bidirectional layer or the window autoencoder; onnx / onnxruntime missing.
        ParityError: onnxruntime and torch disagree by more than ``atol``.
    """
    if kind not in KINDS:
        raise ConfigError(unknown_name("export kind", kind, KINDS))
    onnx = parity.require("onnx")
    if check:
        parity.require("onnxruntime")
    net, estimator = _network(model)
    adapter = adapter_for(net)
    if estimator is not None:
        adapter.use_estimator(estimator)
    opset = DEFAULT_OPSET if opset is None else int(opset)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit.script: still the way to a Loop
        module, example, names_in, names_out, axes, forms = _plan(adapter, kind)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    shapes = _write(module, example, names_in, names_out, axes, path, opset)
    meta = {"rnnkit.version": __version__, "rnnkit.kind": kind,
            "rnnkit.inputs": json.dumps({n: adapter.meaning.get(n, "") for n in names_in}),
            "rnnkit.outputs": json.dumps({n: adapter.meaning.get(n, "") for n in names_out})}
    if kind == "step":
        meta["rnnkit.state"] = json.dumps({n: f"{n}_next" for n in adapter.state_names()})
    if estimator is not None:
        meta.update(_bundle_metadata(estimator))
    graph = onnx.load(str(path))
    onnx.helper.set_model_props(graph, meta)
    _name_output_dims(graph, shapes, axes)
    onnx.save(graph, str(path))
    report = ExportReport(path, kind, meta.get("rnnkit.task"), _shapes(graph.graph, graph.graph.input),
                          _shapes(graph.graph, graph.graph.output), forms, opset, atol=atol)
    if check:
        run = parity.check_sequence if kind == "sequence" else parity.check_step
        report.max_abs_diff = run(path, adapter)
        report.checked_at = (parity.CHECK_BATCH, parity.CHECK_LENGTH + adapter.extra_length)
        report.traced_at = (TRACE_BATCH, TRACE_LENGTH + adapter.extra_length)
        if not report.max_abs_diff <= atol:
            raise ParityError(f"export: onnxruntime and torch differ by {report.max_abs_diff:.3g} "
                              f"> atol={atol:g} for {path} ({kind} graph); the file is kept for "
                              "inspection — please report this with the model")
    return report
