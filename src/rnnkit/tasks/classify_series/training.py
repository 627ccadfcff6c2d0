"""Training the series classifier: the stratified validation split, length-bucketed batches,
the loss and the per-epoch validation metrics handed to :class:`~rnnkit.train.Trainer`."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from rnnkit.data.bucketing import BucketBatches, length_batches, pad
from rnnkit.tasks.classify_series.config import SequenceClassifierConfig
from rnnkit.tasks.common.labels import stratified_split
from rnnkit.train import History, Trainer

EVAL_BATCH = 256


def cross_entropy(model, batch) -> torch.Tensor:
    x, lengths, y = batch
    return F.cross_entropy(model(x, lengths), y)


def validation_metrics(model, batches) -> dict[str, float]:
    """Mean loss and accuracy over every validation series (not a mean of batch means)."""
    device = next(model.parameters()).device
    loss, correct, count = 0.0, 0, 0
    for x, lengths, y in batches:
        logits = model(x.to(device), lengths.to(device))
        y = y.to(device)
        loss += float(F.cross_entropy(logits, y, reduction="sum"))
        correct += int((logits.argmax(1) == y).sum())
        count += len(y)
    return {"val_loss": loss / count, "val_accuracy": correct / count}


def train_network(model: torch.nn.Module, series: Sequence[np.ndarray], codes: np.ndarray,
                  cfg: SequenceClassifierConfig, out_dir=None, resume: bool = False) -> History:
    """Fit ``model`` on scaled ``series`` with class ``codes``; early stopping on a stratified
    validation split of them when ``cfg.val_fraction > 0``."""
    train_idx, val_idx = stratified_split(codes, cfg.val_fraction, cfg.seed)
    y = torch.as_tensor(codes, dtype=torch.int64)

    def batches(idx, size, shuffle):
        return BucketBatches([series[i] for i in idx], size, targets=[y[idx]], shuffle=shuffle)

    val = list(batches(val_idx, EVAL_BATCH, False)) if len(val_idx) else None
    trainer = Trainer(model, cross_entropy, cfg.trainer_config(validation=bool(val)), out_dir=out_dir,
                      evaluate_fn=validation_metrics if val else None)
    return trainer.fit(batches(train_idx, cfg.batch_size, True), val, resume=resume)


@torch.no_grad()
def predict_logits(model: torch.nn.Module, series: Sequence[np.ndarray]) -> np.ndarray:
    """Logits ``(N, K)`` in the order of ``series``, computed in length-sorted padded batches."""
    device = next(model.parameters()).device
    model.eval()
    out = np.empty((len(series), model.head.out_features), dtype=np.float32)
    for idx in length_batches([len(s) for s in series], EVAL_BATCH, shuffle=False):
        x, lengths = pad([series[i] for i in idx])  # (B, L, C), (B,)
        out[idx] = model(x.to(device), lengths.to(device)).float().cpu().numpy()
    return out
