"""Export of the ``Forecaster``'s network, ``ForecastNet(past, future, static) -> forecast``.

The step graph reads one step of ``past`` per call and carries the encoder's state; each
step's output is the forecast ``ForecastNet`` gives for the whole history so far. It is
the network's own forward on a one-step ``past`` with the encoder swapped for its
:class:`rnnkit.export.layers.CarriedStep`, which starts from the carried state.

Shapes: N batch, L length, F_in past features, F_cal calendar features per future step,
S static covariates, C targets, K outputs per value.
"""

from __future__ import annotations

import torch

from rnnkit.errors import ConfigError
from rnnkit.export.base import Adapter, Call, as_hx, flat_state, no_stream, register_adapter
from rnnkit.tasks.forecast.model import ForecastEnsemble, ForecastNet


@register_adapter(ForecastNet)
class ForecastNetAdapter(Adapter):
    """``ForecastNet(past, future, static) -> forecast``; the encoder is the layer."""

    task = "forecast"
    seq_inputs, seq_outputs = ["past", "future", "static"], ["forecast"]
    meaning = {"past": "(N, L, F_in) scaled targets | scaled past covariates | calendar features",
               "future": "(N, horizon, F_cal) calendar features of the forecast steps",
               "static": "(N, S) scaled static covariates",
               "forecast": "(N, horizon, C, K) scaled; K = quantiles, (mean, raw scale) or 1",
               "past_t": "(N, F_in) one step of past"}

    n_future: int | None = None  # calendar features per future step: Forecaster.dims_

    lookback: int = 0  # rows a forecast reads: example windows are longer than this

    def use_estimator(self, estimator) -> None:
        self.n_future = estimator.dims_["n_future"]
        self.lookback = self.extra_length = estimator.lookback_

    def layer(self):
        return self.net.encoder

    def check_streamable(self, owner: str) -> None:
        if self.net.window_norm:
            raise no_stream(owner, "with normalize='window' every step rescales the whole window "
                            "by its last value and step size, so no state can be carried; fit with "
                            "normalize='series' for a step graph")
        super().check_streamable(owner)

    @staticmethod
    def run(net, past, future, static):
        return net(past, future, static)

    def _constants(self, batch, gen):
        if self.n_future is None:
            raise ConfigError("export: a bare ForecastNet does not say how many calendar "
                              "features each future step has; export the Forecaster itself")
        head_in = self.net.head[0].in_features - self.net.encoder.real_hidden_size
        future = torch.randn(batch, self.net.horizon, self.n_future, generator=gen)
        static = torch.randn(batch, head_in - self.net.horizon * self.n_future, generator=gen)
        return future, static

    def example(self, batch, length, gen):
        """Random inputs; ``past`` has ``lookback + length`` steps (the seasonal base and an
        ensemble's members read the last ``lookback`` of them)."""
        net = self.net.members[0] if isinstance(self.net, ForecastEnsemble) else self.net
        past = torch.randn(batch, self.lookback + length, net.encoder.input_size, generator=gen)
        return (past, *self._constants(batch, gen))

    def seq_axes(self):
        return {"past": {0: "batch", 1: "length"}, "future": {0: "batch"},
                "static": {0: "batch"}, "forecast": {0: "batch"}}

    def step_module(self):
        def one_step(net, past_t, future, static, *state):
            net.encoder.carried = as_hx(state)  # the encoder continues from here
            forecast = net(past_t[:, None], future, static)  # (N, horizon, C, K)
            return (forecast, *flat_state(net.encoder.carried))

        return Call(self.step_net("Forecaster"), one_step)

    def step_io(self):
        return ["past_t"], ["future", "static"], ["forecast"]

    def step_example(self, batch, length, gen):
        past, future, static = self.example(batch, length, gen)
        return {"past_t": past}, {"future": future, "static": static}

    def step_reference(self, streams, consts):
        past, out = streams["past_t"], []
        with torch.no_grad():
            for t in range(past.shape[1]):
                out.append(self.net(past[:, : t + 1], consts["future"], consts["static"]))
        return {"forecast": torch.stack(out, dim=1)}


@register_adapter(ForecastEnsemble)
class ForecastEnsembleAdapter(ForecastNetAdapter):
    """``ForecastEnsemble(past, future, static) -> forecast``: the members' median, each member
    reading the last ``lookbacks[k]`` steps of ``past``; sequence graph only."""

    def layer(self):
        return self.net.members[0].encoder

    def check_streamable(self, owner: str) -> None:
        raise no_stream(owner, "an ensemble's members read windows of different lengths; fit "
                        "with ensemble=1 and normalize='series' for a step graph")

    def _constants(self, batch, gen):
        first, self.net = self.net, self.net.members[0]
        try:
            return super()._constants(batch, gen)
        finally:
            self.net = first
