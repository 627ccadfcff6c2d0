"""The unrolled view of a traced layer: state and gates through time, per layer and direction."""

from __future__ import annotations

import numpy as np

from rnnkit.inspect import figures
from rnnkit.inspect.report import Inspection
from rnnkit.inspect.trace import LayerTrace


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text).strip("_").lower()


def add_unrolled(insp: Inspection, trace: LayerTrace, labels: list[str], prefix: str, what: str,
                 axis: str = "step") -> None:
    """Pictures of ``trace`` into ``insp`` (``axis`` names the x axis, one ``labels`` entry a step):

    * ``{prefix}_hidden_l{k}``: the hidden state ``h_t`` of layer ``k`` (directions side by
      side, as the layer outputs them), ``(T, D*P)``;
    * ``{prefix}_gates_l{k}[_backward]``: each gate's activation and, for an LSTM, the cell
      state ``c_t`` (scaled to [-1, 1] by its largest magnitude; the array keeps the raw values).
    """
    layers = sorted({d.layer for d in trace.directions})
    for k in layers:
        parts = trace.of_layer(k)
        hidden = np.concatenate([d.h for d in parts], axis=1)  # (T, D*P)
        insp.add(f"{prefix}_hidden_l{k}", figures.heatmap(
            hidden, f"{what}: hidden state h_t, layer {k}" + (" (forward | backward units)" if len(parts) > 1 else ""),
            labels, xlabel=axis), f"{what}, layer {k}: each column is one step's hidden state h_t (red +, blue −); "
                     "a unit that stays one colour carries memory across those steps.", values=hidden)
        for d in parts:
            if not d.gates:
                continue
            items = [(name, g, 0.0 if name.split()[-1] in "ifozr" else -1.0, 1.0) for name, g in d.gates.items()]
            arrays = {_slug(name): g for name, g in d.gates.items()}
            if d.c is not None:
                scale = float(np.abs(d.c).max()) or 1.0
                items.append((f"cell state c (÷{scale:.2g})", d.c / scale, -1.0, 1.0))
                arrays["cell_state"] = d.c
            name = f"{prefix}_gates_l{k}" + ("_backward" if d.reverse else "")
            insp.add(name, figures.panels(items, f"{what}: gates, {d.name}", labels, xlabel=axis),
                     f"{what}, {d.name}: gate activations per step (sigmoid gates in [0, 1]; "
                     "a forget/update gate near 1 keeps the old state)"
                     + ("; the cell state c_t" if d.c is not None else "") + ".", **arrays)
