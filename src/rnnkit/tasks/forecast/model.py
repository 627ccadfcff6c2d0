"""The forecasting network: a recurrent encoder and a direct multi-horizon head.

For a window of ``L = lookback`` past steps and ``H = horizon`` future steps::

    past (N, L, F_in)  = [scaled targets | scaled past covariates | calendar features]
    h_L = RNN(past)[:, -1]                               # (N, P) encoder summary
    z   = [h_L | future calendar (N, H*F_cal) | static (N, S)]
    out = last + MLP(z).view(N, H, C, K)                 # (N, H, C, K)

``last`` is the last observed scaled target, so the head learns the change from it (a
random walk is the zero function). ``K`` is the number of outputs per value: the number
of quantiles, 2 for a Gaussian (mean and raw scale), 1 for a point forecast.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

import rnnkit.nn as rnn

CELLS = {"lstm": rnn.LSTM, "gru": rnn.GRU, "rnn": rnn.RNN}


class ForecastNet(nn.Module):
    def __init__(self, *, n_inputs: int, n_targets: int, horizon: int, n_future: int,
                 n_static: int, n_outputs: int, cell: str = "lstm", hidden_size: int = 64,
                 num_layers: int = 1, dropout: float = 0.0, layer_norm: bool = False,
                 recurrent_dropout: float = 0.0, zoneout: float = 0.0) -> None:
        super().__init__()
        self.horizon, self.n_targets, self.n_outputs = horizon, n_targets, n_outputs
        self.encoder = CELLS[cell](n_inputs, hidden_size, num_layers=num_layers, batch_first=True,
                                   dropout=dropout if num_layers > 1 else 0.0,
                                   layer_norm=layer_norm, recurrent_dropout=recurrent_dropout,
                                   zoneout=zoneout)
        head_in = hidden_size + horizon * n_future + n_static
        self.head = nn.Sequential(
            nn.Linear(head_in, hidden_size), nn.GELU(), nn.Dropout(dropout),
            nn.Linear(hidden_size, horizon * n_targets * n_outputs))

    def forward(self, past: Tensor, future: Tensor, static: Tensor) -> Tensor:
        """past ``(N, L, F_in)``, future ``(N, H, F_cal)``, static ``(N, S)`` -> ``(N, H, C, K)``."""
        out, _ = self.encoder(past)  # (N, L, P)
        summary = out[:, -1]  # (N, P)
        z = torch.cat([summary, future.flatten(1), static], dim=1)  # (N, P + H*F_cal + S)
        delta = self.head(z).view(-1, self.horizon, self.n_targets, self.n_outputs)  # (N, H, C, K)
        last = past[:, -1, : self.n_targets]  # (N, C) last scaled targets
        return last[:, None, :, None] + delta
