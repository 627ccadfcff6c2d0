"""``rnnkit export MODEL --format onnx``: a model file to an ONNX graph, checked in
onnxruntime against torch."""

from __future__ import annotations

from pathlib import Path

import typer

from rnnkit.errors import ConfigError, unknown_name

FORMATS = ("onnx",)
KINDS = ("sequence", "step", "both")


def export(model: Path = typer.Argument(..., help="Model file (.rnnkit)."),
           format: str = typer.Option("onnx", "--format", help="Export format: onnx."),
           out: Path = typer.Option(None, "--out", help="Output file (default: MODEL with .onnx; "
                                    "the step graph gets -step.onnx)."),
           kind: str = typer.Option("sequence", "--kind", help="sequence (whole series, dynamic "
                                    "batch and length), step (one step, state in and out) or both."),
           opset: int = typer.Option(None, "--opset", help="ONNX opset (default 17)."),
           check: bool = typer.Option(True, "--check/--no-check", help="Compare with torch in "
                                      "onnxruntime (max abs difference <= 1e-4).")) -> None:
    """Export a model file's network to ONNX and print what the graph takes and returns.

    Example: rnnkit export runs/latest/model.rnnkit --format onnx --kind both
    """
    import rnnkit
    from rnnkit.export import to_onnx

    if format not in FORMATS:
        raise ConfigError(unknown_name("export format", format, FORMATS))
    if kind not in KINDS:
        raise ConfigError(unknown_name("export kind", kind, KINDS))
    estimator = rnnkit.load(model)  # BundleError on a corrupt file: one line, exit status 2
    base = out if out is not None else model.with_suffix(".onnx")
    kinds = ["sequence", "step"] if kind == "both" else [kind]
    for k in kinds:
        path = base if k == "sequence" or kind == "step" else base.with_name(base.stem + "-step.onnx")
        typer.echo(str(to_onnx(estimator, path, kind=k, opset=opset, check=check)))


def register(app: typer.Typer) -> None:
    app.command("export")(export)
