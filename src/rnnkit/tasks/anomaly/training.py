"""Training the detector's network on a scaled series with :class:`rnnkit.train.Trainer`.

The series ``x`` ``(T, C)`` is cut into overlapping chunks of ``L = window`` steps
(stride 1, shuffled each epoch); the last ``val_fraction`` of the time is held out for
early stopping when it fits at least one chunk.

* predict: each chunk starts from a zero state, like a fresh stream; the loss is the mean
  squared error of the predictions ``k = 1..K`` steps ahead after the burn-in::

      loss = mean_k mean_{t = b .. L-k-1} ||x̂_{t+k} - x_{t+k}||² / C     (b = burn_in)

* autoencoder: the loss is the mean squared reconstruction error of the chunk, encoded
  relative to its anchor (the value before it).

Outlier inputs (``corrupt = q``, training only): each input value is moved by
``±U(2, 6)`` (in scaled units, i.e. standard deviations) with probability ``q`` while the
targets stay clean, so the network learns to predict (or reconstruct) through an
anomaly instead of being thrown off by it. At inference this keeps a point anomaly from
corrupting the errors of the steps after it (a denoising objective, as in denoising
autoencoders, Vincent et al. 2008).
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from rnnkit.data.windows import sliding
from rnnkit.train import History, Trainer


def split(T: int, window: int, val_fraction: float) -> int:
    """First validation step: ``T`` (no validation) unless both parts hold a chunk."""
    val = int(round(T * val_fraction))
    return T - val if val >= window and T - val >= window else T


def chunks(x: np.ndarray, window: int) -> TensorDataset:
    """All chunks ``(n, L, C)`` of ``x`` ``(T, C)`` with their anchors ``(n, C)`` (the value
    before each chunk; the chunk's first value for the chunk at 0), as float32."""
    windows = torch.from_numpy(np.ascontiguousarray(sliding(x, window))).float()
    anchors = torch.from_numpy(x[np.maximum(np.arange(len(windows)) - 1, 0)]).float()
    return TensorDataset(windows, anchors)


def corrupt(x: torch.Tensor, share: float) -> torch.Tensor:
    """``x`` with a ``share`` of its values moved by ``±U(2, 6)``."""
    if share <= 0:
        return x
    hit = torch.rand_like(x) < share
    size = (2 + 4 * torch.rand_like(x)) * torch.where(torch.rand_like(x) < 0.5, -1.0, 1.0)
    return torch.where(hit, x + size, x)


def loss_for(method: str, burn_in: int, share: float):
    def inputs(model, x):
        return corrupt(x, share) if model.training else x

    def predict_loss(model, batch):
        x, prev = batch  # (N, L, C), (N, C)
        pred, _ = model(inputs(model, x), prev)  # (N, L, K, C)
        losses = [torch.nn.functional.mse_loss(pred[:, burn_in:-k - 1, k], x[:, burn_in + k + 1:])
                  for k in range(model.horizons)]
        return sum(losses) / len(losses)

    def autoencoder_loss(model, batch):
        x, anchor = batch  # (N, L, C), (N, C)
        return torch.nn.functional.mse_loss(model(inputs(model, x), anchor), x)

    return predict_loss if method == "predict" else autoencoder_loss


def train(net: torch.nn.Module, x: np.ndarray, cfg, out_dir=None) -> History:
    """Fit ``net`` on ``x`` ``(T, C)`` (scaled) with the settings of ``cfg`` (an
    :class:`~rnnkit.tasks.anomaly.config.AnomalyConfig`)."""
    cut = split(len(x), cfg.window, cfg.val_fraction)
    loader = DataLoader(chunks(x[:cut], cfg.window), batch_size=cfg.batch_size, shuffle=True)
    val = None
    if cut < len(x):
        val = list(DataLoader(chunks(x[cut:], cfg.window), batch_size=1024))
    trainer = Trainer(net, loss_for(cfg.method, cfg.burn_in, cfg.corrupt),
                      cfg.trainer_config(validation=bool(val)), out_dir=out_dir)
    return trainer.fit(loader, val)
