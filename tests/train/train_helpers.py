"""Small models and data shared by the trainer tests (plain torch.nn, no rnnkit.nn).

A module of its own, with a name no other test folder uses (a ``conftest`` is not importable
reliably once several folders have one).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


class TinyLSTM(torch.nn.Module):
    """LSTM -> dropout -> linear head, predicting one value per time step."""

    def __init__(self, input_size: int = 3, hidden_size: int = 8, dropout: float = 0.0) -> None:
        super().__init__()
        self.rnn = torch.nn.LSTM(input_size, hidden_size, batch_first=True)
        self.drop = torch.nn.Dropout(dropout)
        self.head = torch.nn.Linear(hidden_size, 1)

    def forward(self, x, state=None):
        y, state = self.rnn(x, state)  # (N, L, H)
        return self.head(self.drop(y)), state  # (N, L, 1)


def make_lstm(seed: int = 0, dropout: float = 0.0) -> TinyLSTM:
    torch.manual_seed(seed)
    return TinyLSTM(dropout=dropout)


def sequence_data(n: int = 16, length: int = 12, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, length, 3, generator=g)
    y = x.cumsum(dim=1).sum(-1, keepdim=True) * 0.1  # (N, L, 1): needs memory
    return x, y


def lstm_loss(model, batch):
    x, y = batch
    out, _ = model(x)
    return F.mse_loss(out, y)


def lstm_chunk_loss(model, chunk, state):
    x, y = chunk
    out, state = model(x, state)
    return F.mse_loss(out, y), state


def linear_loss(model, batch):
    x, y = batch
    return F.mse_loss(model(x), y)


def regression_data(n: int = 32, seed: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g)
    y = x @ torch.tensor([[1.5], [-2.0], [0.5]]) + 0.3
    return x, y
