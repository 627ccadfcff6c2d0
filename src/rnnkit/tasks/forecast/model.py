"""The forecasting network: a recurrent encoder and a direct multi-horizon head, on top of
a statistical base forecast, and the ensemble of several such networks.

For a window of ``L = lookback`` past steps and ``H = horizon`` future steps, with ``y``
the ``C`` scaled targets in ``past`` and ``m`` the base's seasonal lag::

    base_h = y[L - m + (h - 1) mod m]  (seasonal naive; m = 1: the last value)   # (N, H, C)
    s      = max(mean_t |y_t - y_{t-1}|, 1e-3)   with normalize="window", else 1  # (N, 1, C)
    x      = [(y - y_L) / s | past covariates | calendar]                           # (N, L, F_in)
    h_L    = RNN(x)[:, -1]                                                          # (N, P)
    δ      = MLP([h_L | future calendar (N, H*F_cal) | static (N, S)])             # (N, H, C, K)
    out    = base + s · δ                                                           # (N, H, C, K)

So the network learns what the base misses, in units of the window's own step size
(ES-RNN's per-window normalisation: a level or trend outside the training range is just
another window), and with the last layer initialised to zero it starts exactly at the
base. ``K`` is the number of outputs per value: the quantiles, 2 for a Gaussian (mean and
raw scale: the mean moves as above, the scale ``σ = softplus(raw) + 1e-4`` is multiplied
by ``s``), 1 for a point forecast. The training loss is taken on ``δ`` against
``(y_future - base) / s``: every window weighs the same, as in MASE.

:class:`ForecastEnsemble` runs several networks (seeds, lookbacks) on the last ``L_k``
steps of one window each and takes the element-wise median of their outputs (N-BEATS).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

import rnnkit.nn as rnn

CELLS = {"lstm": rnn.LSTM, "gru": rnn.GRU, "rnn": rnn.RNN}
SCALE_FLOOR = 1e-3  # in the series' scaled units: a flat window still divides safely
SIGMA_FLOOR = 1e-4  # the Gaussian's σ = softplus(raw) + SIGMA_FLOOR


class ForecastNet(nn.Module):
    def __init__(self, *, n_inputs: int, n_targets: int, horizon: int, n_future: int,
                 n_static: int, n_outputs: int, cell: str = "lstm", hidden_size: int = 64,
                 num_layers: int = 1, dropout: float = 0.0, layer_norm: bool = False,
                 recurrent_dropout: float = 0.0, zoneout: float = 0.0, base_lag: int = 1,
                 window_norm: bool = False, gaussian: bool = False) -> None:
        super().__init__()
        self.horizon, self.n_targets, self.n_outputs = horizon, n_targets, n_outputs
        self.base_lag, self.window_norm, self.gaussian = base_lag, window_norm, gaussian
        self.encoder = CELLS[cell](n_inputs, hidden_size, num_layers=num_layers, batch_first=True,
                                   dropout=dropout if num_layers > 1 else 0.0,
                                   layer_norm=layer_norm, recurrent_dropout=recurrent_dropout,
                                   zoneout=zoneout)
        head_in = hidden_size + horizon * n_future + n_static
        self.head = nn.Sequential(
            nn.Linear(head_in, hidden_size), nn.GELU(), nn.Dropout(dropout),
            nn.Linear(hidden_size, horizon * n_targets * n_outputs))
        if window_norm:  # start at the base forecast
            nn.init.zeros_(self.head[-1].weight)
            nn.init.zeros_(self.head[-1].bias)

    def window_stats(self, past: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``(base (N, H, C), last (N, 1, C), scale (N, 1, C))`` of the targets in ``past``."""
        y = past[:, :, : self.n_targets]  # (N, L, C)
        L, m = y.shape[1], self.base_lag
        last = y[:, -1:]
        if 1 < m <= L:
            base = y[:, [h % m - m for h in range(self.horizon)]]  # from the end: any length
        else:
            base = last.expand(-1, self.horizon, -1)
        if self.window_norm and L > 1:
            scale = (y[:, 1:] - y[:, :-1]).abs().mean(dim=1, keepdim=True).clamp_min(SCALE_FLOOR)
        else:
            scale = torch.ones_like(last)
        return base, last, scale

    def encoder_input(self, past: Tensor, last: Tensor | None = None, scale: Tensor | None = None) -> Tensor:
        """What the encoder reads, ``(N, L, F_in)``: ``past`` with its targets as
        ``(y - y_L) / s`` where ``normalize="window"`` (``last``, ``scale`` from
        :meth:`window_stats` when the caller has them)."""
        if not self.window_norm:
            return past
        if last is None:
            _, last, scale = self.window_stats(past)
        y = (past[:, :, : self.n_targets] - last) / scale
        return torch.cat([y, past[:, :, self.n_targets:]], dim=2)

    def normalised(self, past: Tensor, future: Tensor, static: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``(δ (N, H, C, K), base (N, H, C), scale (N, 1, C))``: the head's output in the
        window's units and what turns it into the forecast (see the module docstring)."""
        base, last, scale = self.window_stats(past)
        out, _ = self.encoder(self.encoder_input(past, last, scale))  # (N, L, P)
        z = torch.cat([out[:, -1], future.flatten(1), static], dim=1)  # (N, P + H*F_cal + S)
        delta = self.head(z).view(-1, self.horizon, self.n_targets, self.n_outputs)
        return delta, base, scale

    def target(self, y: Tensor, base: Tensor, scale: Tensor) -> Tensor:
        """Future targets ``y`` ``(N, H, C)`` in the units of ``δ``."""
        return (y - base) / scale

    def denormalise(self, delta: Tensor, base: Tensor, scale: Tensor) -> Tensor:
        """``δ`` ``(N, H, C, K)`` -> the forecast in the series' scaled units."""
        if not self.gaussian:
            return base[..., None] + scale[..., None] * delta
        mu = base + scale * delta[..., 0]
        if not self.window_norm:
            return torch.stack([mu, delta[..., 1]], dim=-1)
        sigma = scale * (nn.functional.softplus(delta[..., 1]) + SIGMA_FLOOR) - SIGMA_FLOOR
        sigma = sigma.clamp_min(1e-6)
        raw = sigma + torch.log(1 - torch.exp(-sigma))  # softplus⁻¹ (no expm1 in ONNX)
        return torch.stack([mu, raw], dim=-1)

    def forward(self, past: Tensor, future: Tensor, static: Tensor) -> Tensor:
        """past ``(N, L, F_in)``, future ``(N, H, F_cal)``, static ``(N, S)`` -> ``(N, H, C, K)``."""
        return self.denormalise(*self.normalised(past, future, static))


class ForecastEnsemble(nn.Module):
    """The median of several :class:`ForecastNet` members, member ``k`` reading the last
    ``lookbacks[k]`` steps of ``past`` ``(N, L, F_in)``, ``L = max(lookbacks)``."""

    def __init__(self, members: list[ForecastNet], lookbacks: list[int]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)
        self.lookbacks = list(lookbacks)
        self.horizon = members[0].horizon

    def forward(self, past: Tensor, future: Tensor, static: Tensor) -> Tensor:
        outs = torch.stack([net(past[:, -L:], future, static)
                            for net, L in zip(self.members, self.lookbacks)])  # (M, N, H, C, K)
        ranked = outs.sort(dim=0).values
        M = len(self.members)
        return ranked[M // 2] if M % 2 else (ranked[M // 2 - 1] + ranked[M // 2]) / 2
