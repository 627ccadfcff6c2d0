"""``rnnkit inspect``: the unrolled network of a trained model on one input, as pictures.

>>> from rnnkit.inspect import inspect
>>> report = inspect(rnnkit.load("weather.rnnkit"), "seattle-weather.csv")   # doctest: +SKIP
>>> report.save("inspect-weather")            # PNGs, arrays.npz and index.html  # doctest: +SKIP

What is drawn (see :mod:`rnnkit.inspect.trace` for the math): the hidden state over time,
each gate's activations (LSTM input/forget/output and candidate, GRU reset/update and
candidate) and the LSTM cell state, per layer and direction; the attention map of
attention models; and the gradient norm reaching each earlier input step.
"""

from __future__ import annotations

from rnnkit.errors import ConfigError, problem
from rnnkit.inspect.gradients import gradient_reach, reach_steps
from rnnkit.inspect.report import Inspection
from rnnkit.inspect.trace import LayerTrace, trace_layer

SUPPORTED = ("Forecaster", "TextClassifier", "Seq2Seq")


def inspect(model, data, **options) -> Inspection:
    """Run ``data`` through ``model`` and return the pictures.

    ``data``: a Forecaster takes a DataFrame or CSV path (its last ``lookback`` rows; pick a
    series with ``series=ID``); a TextClassifier and a Seq2Seq take one text.
    """
    name = type(model).__name__
    if name == "Forecaster":
        from rnnkit.inspect.forecast import inspect_forecaster

        return inspect_forecaster(model, data, **options)
    if options:
        raise ConfigError(problem(f"inspect: options for a {name}", expected="none",
                                  got=", ".join(options), fix="series= is for forecasters only"))
    if name == "TextClassifier":
        from rnnkit.inspect.text import inspect_text_classifier

        return inspect_text_classifier(model, data)
    if name == "Seq2Seq":
        from rnnkit.inspect.translate import inspect_seq2seq

        return inspect_seq2seq(model, data)
    raise ConfigError(problem("inspect: model", expected=" or ".join(SUPPORTED), got=name,
                              fix="inspect supports forecasters, text classifiers and translators"))


__all__ = ["inspect", "Inspection", "trace_layer", "LayerTrace", "gradient_reach", "reach_steps"]
