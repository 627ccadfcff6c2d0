"""The two recurrent networks of the detector, with a whole-sequence path (training and
batch scoring) and a one-step path (the stream) that compute the same thing in eval mode.

Shapes: N batch, L length, C channels, H hidden size, P the layer's output size.

``NextStepNet`` (``method="predict"``, Telemanom's predictor, one joint model over all
channels)::

    h_t     = RNN(x_1, ..., x_t)             # (N, P), state carried from step to step
    x̂_{t+1} = x_t + W h_t + b               # (N, C); a random walk is W = 0, b = 0

``WindowAutoencoder`` (``method="autoencoder"``, EncDec-AD of Malhotra et al. 2016 with a
repeated code instead of fed-back outputs)::

    z      = RNN_enc(x_1, ..., x_W)[W]       # (N, P): the encoder's last output
    u_i    = RNN_dec(z, z, ..., z)[i]        # (N, W, P): z fed at each of the W steps
    x̂_i    = W u_i + b                       # (N, W, C) the reconstructed window
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
    """Predicts the next step of every channel from the recurrent state (see the module doc)."""

    def __init__(self, n_channels: int, *, cell: str = "lstm", hidden_size: int = 64,
                 num_layers: int = 1, dropout: float = 0.0, layer_norm: bool = False,
                 recurrent_dropout: float = 0.0, zoneout: float = 0.0) -> None:
        super().__init__()
        self.rnn = recurrent(cell, n_channels, hidden_size, num_layers, dropout, layer_norm,
                             recurrent_dropout, zoneout)
        self.head = nn.Linear(hidden_size, n_channels)

    def forward(self, x: Tensor, state=None):
        """x ``(N, L, C)`` -> (predictions ``(N, L, C)`` where ``[:, t]`` predicts ``x[:, t+1]``, state)."""
        out, state = self.rnn(x, state)  # (N, L, P)
        return x + self.head(out), state

    def step(self, x_t: Tensor, state=None):
        """x_t ``(N, C)`` -> (prediction of the next step ``(N, C)``, state)."""
        y, state = self.rnn.step(x_t, state)  # (N, P)
        return x_t + self.head(y), state


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

    def encode(self, x: Tensor) -> Tensor:
        """x ``(N, W, C)`` -> code ``(N, P)``."""
        out, _ = self.encoder(x)  # (N, W, P)
        return out[:, -1]

    def decode(self, z: Tensor, length: int) -> Tensor:
        """code ``(N, P)`` -> reconstruction ``(N, length, C)``."""
        u, _ = self.decoder(z.unsqueeze(1).expand(-1, length, -1))  # (N, W, P)
        return self.head(u)

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x), x.shape[1])

    def encode_step(self, x_t: Tensor, state=None):
        """One encoder step: x_t ``(N, C)`` -> (output ``(N, P)``, state); the output after
        the window's last step is its code."""
        return self.encoder.step(x_t, state)


def build(method: str, n_channels: int, cfg) -> nn.Module:
    """The network for ``cfg.method`` with the layer options of ``cfg``."""
    kind = NextStepNet if method == "predict" else WindowAutoencoder
    return kind(n_channels, cell=cfg.cell, hidden_size=cfg.hidden_size, num_layers=cfg.num_layers,
                dropout=cfg.dropout, layer_norm=cfg.layer_norm,
                recurrent_dropout=cfg.recurrent_dropout, zoneout=cfg.zoneout)


def scoring_copy(net: nn.Module) -> nn.Module:
    """A float64 CPU copy in eval mode for scoring: batch and stream use this one copy, so
    they agree to rounding; inputs are validated before they reach it."""
    out = copy.deepcopy(net).to("cpu", torch.float64).eval()
    for module in out.modules():
        if isinstance(module, rnn.RecurrentLayer):
            module.validate_inputs = False
    return out
