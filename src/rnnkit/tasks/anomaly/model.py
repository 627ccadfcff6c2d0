"""The two recurrent networks of the detector, with a whole-sequence path (training and
batch scoring) and a one-step path (the stream) that compute the same thing in eval mode.

Shapes: N batch, L length, C channels, H hidden size, P the layer's output size.

``NextStepNet`` (``method="predict"``, Telemanom's predictor, one joint model over all
channels). The recurrent layer reads the changes ``Δx_t = x_t - x_{t-1}`` (``Δx_1 = 0`` at
the start of a series), so a trend or a new level keeps its inputs in the range seen in
training, and the head predicts the next ``K = horizons`` steps as changes from ``x_t``::

    h_t       = RNN(Δx_1, ..., Δx_t)             # (N, P), state carried from step to step
    x̂_{t+k}   = x_t + W_k h_t + b_k,  k = 1..K   # (N, K, C); a random walk is W = 0, b = 0

``WindowAutoencoder`` (``method="autoencoder"``, EncDec-AD of Malhotra et al. 2016 with a
repeated code instead of fed-back outputs). A window is encoded relative to its anchor
``a`` ``(N, C)``, the last value before it (the window's own first value for the first
window of a series), so a slow trend or a new level does not look anomalous, only an
unusual shape does; the anchor is known when the window starts, so a stream can encode
step by step::

    z      = RNN_enc(x_1 - a, ..., x_W - a)[W]   # (N, P): the encoder's last output
    u_i    = RNN_dec(z, z, ..., z)[i]            # (N, W, P): z fed at each of the W steps
    x̂_i    = a + W u_i + b                       # (N, W, C) the reconstructed window
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn

import rnnkit.nn as rnn

LAYERS = {"lstm": rnn.LSTM, "gru": rnn.GRU, "rnn": rnn.RNN}


def recurrent(cell: str, input_size: int, hidden_size: int, num_layers: int, dropout: float,
              layer_norm: bool, recurrent_dropout: float, zoneout: float) -> rnn.RecurrentLayer:
    """A batch-first rnnkit.nn layer with any of its options."""
    return LAYERS[cell](input_size, hidden_size, num_layers=num_layers, batch_first=True,
                        dropout=dropout if num_layers > 1 else 0.0, layer_norm=layer_norm,
                        recurrent_dropout=recurrent_dropout, zoneout=zoneout)


class NextStepNet(nn.Module):
    """Predicts the next ``horizons`` steps of every channel from the recurrent state (see
    the module docstring)."""

    def __init__(self, n_channels: int, *, horizons: int = 1, cell: str = "lstm",
                 hidden_size: int = 64, num_layers: int = 1, dropout: float = 0.0,
                 layer_norm: bool = False, recurrent_dropout: float = 0.0, zoneout: float = 0.0) -> None:
        super().__init__()
        self.horizons, self.n_channels = horizons, n_channels
        self.rnn = recurrent(cell, n_channels, hidden_size, num_layers, dropout, layer_norm,
                             recurrent_dropout, zoneout)
        self.head = nn.Linear(hidden_size, horizons * n_channels)

    def predictions(self, x: Tensor, out: Tensor) -> Tensor:
        """The head: values ``x`` ``(..., C)`` and the recurrent outputs ``out`` ``(..., P)``
        at the same steps -> predictions ``(..., K, C)`` of the next ``K`` steps,
        ``x + W_k out + b_k``. ``(N, L, C)`` and ``(N, L, P)`` give ``(N, L, K, C)``; one step
        ``(N, C)`` and ``(N, P)`` gives ``(N, K, C)``."""
        delta = self.head(out).unflatten(-1, (self.horizons, self.n_channels))  # (..., K, C)
        return x.unsqueeze(-2) + delta

    def forward(self, x: Tensor, prev: Tensor, state=None):
        """x ``(N, L, C)``, prev ``(N, C)`` the value before ``x[:, 0]`` (``x[:, 0]`` itself at
        the start of a series), state the layer's initial state (None: zeros) ->
        (predictions ``(N, L, K, C)`` where ``[:, t, k]`` predicts ``x[:, t + k + 1]``, state).

        Exportable to ONNX as it stands: the changes are one subtraction, not ``torch.diff``.
        """
        dx = x - torch.cat([prev.unsqueeze(1), x[:, :-1]], dim=1)  # (N, L, C): Δx_t = x_t - x_{t-1}
        dx = dx.contiguous()  # the layout torch.diff gives, so the layer rounds as it always did
        out, state = self.rnn(dx, state)  # (N, L, P)
        return self.predictions(x, out), state

    def step(self, x_t: Tensor, prev: Tensor, state=None):
        """x_t, prev ``(N, C)`` -> (predictions of the next K steps ``(N, K, C)``, state)."""
        y, state = self.rnn.step(x_t - prev, state)  # (N, P)
        return self.predictions(x_t, y), state


class WindowAutoencoder(nn.Module):
    """Reconstructs a window from one code vector (see the module docstring)."""

    def __init__(self, n_channels: int, *, cell: str = "lstm", hidden_size: int = 64,
                 num_layers: int = 1, dropout: float = 0.0, layer_norm: bool = False,
                 recurrent_dropout: float = 0.0, zoneout: float = 0.0) -> None:
        super().__init__()
        args = (hidden_size, num_layers, dropout, layer_norm, recurrent_dropout, zoneout)
        self.encoder = recurrent(cell, n_channels, *args)
        self.decoder = recurrent(cell, hidden_size, *args)
        self.head = nn.Linear(hidden_size, n_channels)

    def encode(self, d: Tensor) -> Tensor:
        """anchored window d = x - a ``(N, W, C)`` -> code ``(N, P)``."""
        out, _ = self.encoder(d)  # (N, W, P)
        return out[:, -1]

    def decode(self, z: Tensor, length: int) -> Tensor:
        """code ``(N, P)`` -> anchored reconstruction ``(N, length, C)``."""
        u, _ = self.decoder(z.unsqueeze(1).expand(-1, length, -1))  # (N, W, P)
        return self.head(u)

    def forward(self, x: Tensor, anchor: Tensor) -> Tensor:
        """x ``(N, W, C)``, anchor ``(N, C)`` -> reconstruction ``(N, W, C)``."""
        a = anchor.unsqueeze(1)  # (N, 1, C)
        return a + self.decode(self.encode(x - a), x.shape[1])

    def encode_step(self, d_t: Tensor, state=None):
        """One encoder step on ``d_t = x_t - a`` ``(N, C)`` -> (output ``(N, P)``, state);
        the output after the window's last step is its code."""
        return self.encoder.step(d_t, state)


def build(method: str, n_channels: int, cfg) -> nn.Module:
    """The network for ``cfg.method`` with the layer options of ``cfg``."""
    layer = dict(cell=cfg.cell, hidden_size=cfg.hidden_size, num_layers=cfg.num_layers,
                 dropout=cfg.dropout, layer_norm=cfg.layer_norm,
                 recurrent_dropout=cfg.recurrent_dropout, zoneout=cfg.zoneout)
    if method == "predict":
        return NextStepNet(n_channels, horizons=cfg.horizons, **layer)
    return WindowAutoencoder(n_channels, **layer)


def scoring_copy(net: nn.Module) -> nn.Module:
    """A float64 CPU copy in eval mode for scoring: batch and stream use this one copy, so
    they agree to rounding; inputs are validated before they reach it."""
    out = copy.deepcopy(net).to("cpu", torch.float64).eval()
    for module in out.modules():
        if isinstance(module, rnn.RecurrentLayer):
            module.validate_inputs = False
    return out
