"""``inspect`` for a :class:`~rnnkit.Forecaster`: the last window of one series."""

from __future__ import annotations

import html

import numpy as np
import torch

from rnnkit.data.calendar import feature_names, future_times
from rnnkit.errors import DataError, unknown_name
from rnnkit.inspect import figures
from rnnkit.inspect.gradients import gradient_reach, reach_steps
from rnnkit.inspect.report import Inspection
from rnnkit.inspect.trace import trace_layer
from rnnkit.inspect.unrolled import add_unrolled
from rnnkit.tasks.forecast.model import ForecastEnsemble


def window_tensors(model, data, series=None):
    """``(index, series set, inputs)`` for the last ``lookback`` rows of one series of
    ``data`` (``series``: its id; None: the first): the window :meth:`Forecaster.predict`
    reads, as :meth:`Forecaster.network_inputs` gives it (``inputs.past`` ``(1, L, F)``,
    ``inputs.future``, ``inputs.static``)."""
    sset = model.read(data)
    ids = [None if k is None else str(k) for k in sset.ids]
    if series is None:
        i = 0
    elif str(series) in ids:
        i = ids.index(str(series))
    else:
        raise DataError(unknown_name("series id", str(series), [k for k in ids if k is not None]))
    return i, sset, model.network_inputs(sset, i)


def inspect_forecaster(model, data, *, series=None) -> Inspection:
    i, sset, inputs = window_tensors(model, data, series)
    past, future, static = inputs.past, inputs.future, inputs.static
    net, L, H = model.model_, model.lookback_, model.config.horizon
    net.eval()
    times = _labels(sset.times[i][-L:])
    ahead = _labels(future_times(sset.times[i][-1], sset.freq, H))
    names = list(sset.targets)
    with torch.no_grad():
        point, lower, upper = model.likelihood_.summarize(net(past, future, static))  # (1, H, C) scaled
    forecast = inputs.to_data_units(point.double().numpy())[0]  # (H, C)
    bounds = {} if lower is None else {  # the interval predict gives, in data units
        "lower": inputs.to_data_units(lower.double().numpy())[0],
        "upper": inputs.to_data_units(upper.double().numpy())[0],
        "level": model.likelihood_.interval_level}
    history = np.asarray(sset.values[i][-L:], dtype=np.float64)  # (L, C)

    key = "" if sset.ids[i] is None else f" {sset.ids[i]}"
    insp = Inspection(f"rnnkit inspect: forecaster, series{key or ' (one)'}", _input_html(times, history, names, ahead, forecast))
    insp.summary = {"task": "forecast", "cell": model.config.cell, "hidden size": str(model.config.hidden_size),
                    "layers": str(model.config.num_layers), "lookback": str(L), "horizon": str(H)}
    insp.add("input", figures.series_plot(times, history, ahead, forecast, names,
                                          f"input window and {H}-step forecast", **bounds),
             f"The {L} steps the encoder reads and the {H}-step point forecast"
             + (f", its {bounds['level']:.0%} interval shaded." if bounds else "."),
             history=history, forecast=forecast, **{k: v for k, v in bounds.items() if k != "level"})
    columns = names + list(sset.past_names) + (feature_names(sset.freq) if model.config.calendar else [])
    insp.add("features", figures.heatmap(past[0].double().numpy(), "scaled inputs x_t", times, vmin=-3, vmax=3,
                                         ylabel="feature", xlabel="time", rows=columns),
             "What the network reads per step (scaled): " + ", ".join(columns) + ".", values=past[0].numpy())
    first = net.members[0] if isinstance(net, ForecastEnsemble) else net  # an ensemble: its first member
    window = past[:, -net.lookbacks[0]:] if isinstance(net, ForecastEnsemble) else past
    trace = trace_layer(first.encoder, first.encoder_input(window)[0])
    add_unrolled(insp, trace, times[-window.shape[1]:], "encoder", "encoder", axis="time")

    def first_step(x):  # the point forecast of the first step ahead, first target (scaled)
        return model.likelihood_.summarize(net(x[None], future, static))[0][0, 0, 0]

    norms = gradient_reach(first_step, past[0])
    insp.add("gradient", figures.gradient_plot(norms, "gradient reaching each input step (forecast 1 step ahead)",
                                               times, xlabel="input time"),
             f"‖∂ŷ_(t+1) / ∂x_s‖ per input step s (log scale); {reach_steps(norms)} of {L} steps get at "
             "least 1e-3 of the largest gradient.", norms=norms)
    return insp


def _labels(stamps) -> list[str]:
    text = [str(t)[:19] for t in stamps]
    return [t[:10] for t in text] if all(t.endswith("00:00:00") for t in text) else text


def _input_html(times, history, names, ahead, forecast) -> str:
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    rows = "".join(f"<tr><td>{html.escape(t)}</td>" + "".join(f"<td>{v:.4g}</td>" for v in row) + "</tr>"
                   for t, row in zip(times[-12:], history[-12:]))
    fc = "".join(f"<tr><td>{html.escape(t)}</td>" + "".join(f"<td><b>{v:.4g}</b></td>" for v in row) + "</tr>"
                 for t, row in zip(ahead, forecast))
    return (f"<p>Last {len(times)} rows read (the last 12 shown), then the forecast in bold.</p>"
            f"<table><tr><th>time</th>{head}</tr>{rows}{fc}</table>")
