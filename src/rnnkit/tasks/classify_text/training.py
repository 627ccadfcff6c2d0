"""Training the text classifier: the validation split, the weighted loss, length-bucketed
batches of token ids and the per-epoch validation metrics handed to
:class:`~rnnkit.train.Trainer`.

Losses, for logits ``z`` ``(N, K)``:

* single-label: weighted cross-entropy ``-sum_n w_{y_n} log softmax(z_n)_{y_n} / sum_n w_{y_n}``;
* multi-label: binary cross-entropy per label with ``pos_weight`` ``p_k`` on the positives,
  ``-mean_{n,k} [p_k y_nk log s(z_nk) + (1 - y_nk) log(1 - s(z_nk))]``.

Adversarial training (``adversarial = eps > 0``; Miyato, Dai and Goodfellow 2017,
"Adversarial Training Methods for Semi-Supervised Text Classification"): for a batch with
embeddings ``e`` ``(N, L, E)`` and loss ``l(e)``, each text ``n`` of ``T_n`` tokens is also
fitted after the worst small move of its embeddings, to first order::

    g   = dl(e) / de                              (N, L, E), zero at padding
    r_n = eps * sqrt(T_n) * g_n / ||g_n||_F       a move of norm eps per token on average
    loss = l(e) + l(e + r)                        r a constant (no gradient through it)

so the network cannot rest on a decision that a small change of the words' vectors flips.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

from rnnkit.data.bucketing import length_batches
from rnnkit.data.text.batches import TokenBatches, pad_ids
from rnnkit.errors import ConfigError, problem
from rnnkit.tasks.classify_text.config import TextClassifierConfig
from rnnkit.tasks.common.labels import stratified_split
from rnnkit.train import History, Trainer

EVAL_BATCH = 128


def split(targets: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(train, validation)`` indices: stratified for class codes ``(N,)``, a random share
    for multi-label targets ``(N, K)``."""
    if targets.ndim == 1:
        return stratified_split(targets, fraction, seed)
    perm = np.random.default_rng(seed).permutation(len(targets))
    n_val = int(np.floor(len(targets) * fraction + 0.5))
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def make_loss(multilabel: bool, weight: torch.Tensor | None) -> Callable:
    """``loss(logits, targets)``: see the module doc; ``weight`` is ``w`` (single-label) or
    ``pos_weight`` (multi-label), ``(K,)`` or None."""

    def loss(logits: torch.Tensor, y: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
        w = weight.to(logits.device) if weight is not None else None
        if multilabel:
            return F.binary_cross_entropy_with_logits(logits, y, pos_weight=w, reduction=reduction)
        return F.cross_entropy(logits, y, weight=w, reduction=reduction)

    return loss


def validation_metrics(loss: Callable, multilabel: bool) -> Callable:
    """``evaluate_fn`` for the trainer: mean loss over every text and accuracy (exact match
    of the label set for multi-label data)."""

    def evaluate(model, batches) -> dict[str, float]:
        device = next(model.parameters()).device
        total, correct, count = 0.0, 0, 0
        for ids, lengths, y in batches:
            logits, y = model(ids.to(device), lengths), y.to(device)
            per_text = loss(logits, y, reduction="none")  # (B,) or (B, K)
            total += float(per_text.sum() / (per_text.shape[1] if multilabel else 1))
            if multilabel:
                correct += int(((logits > 0) == (y > 0.5)).all(1).sum())
            else:
                correct += int((logits.argmax(1) == y).sum())
            count += len(y)
        return {"val_loss": total / count, "val_accuracy": correct / count}

    return evaluate


def train_network(model: torch.nn.Module, ids: Sequence[list[int]], targets: np.ndarray,
                  loss: Callable, cfg: TextClassifierConfig, out_dir=None, resume: bool = False
                  ) -> History:
    """Fit ``model`` on token ``ids`` with ``targets`` (codes ``(N,)`` or 0/1 ``(N, K)``);
    early stopping on a held-out ``cfg.val_fraction`` when it is > 0."""
    multilabel = targets.ndim == 2
    train_idx, val_idx = split(targets, cfg.val_fraction, cfg.seed)
    y = torch.as_tensor(targets, dtype=torch.float32 if multilabel else torch.int64)

    def batches(idx, size, shuffle):
        return TokenBatches([ids[i] for i in idx], size, targets=[y[idx]], shuffle=shuffle)

    val = list(batches(val_idx, EVAL_BATCH, False)) if len(val_idx) else None
    loss_fn = adversarial_loss(loss, cfg.adversarial) if cfg.adversarial else \
        (lambda model, batch: loss(model(batch[0], batch[1]), batch[2]))

    trainer = Trainer(model, loss_fn, cfg.trainer_config(validation=bool(val)), out_dir=out_dir,
                      evaluate_fn=validation_metrics(loss, multilabel) if val else None)
    return trainer.fit(batches(train_idx, cfg.batch_size, True), val, resume=resume)


def adversarial_loss(loss: Callable, eps: float) -> Callable:
    """``loss_fn(model, (ids, lengths, targets))`` of adversarial training (module doc)."""

    def loss_fn(model, batch):
        if isinstance(model, DistributedDataParallel):  # two forward passes per backward
            raise ConfigError(problem("TextClassifier: adversarial", expected="one process (a batch "
                                      "runs forward twice before its backward, which DDP refuses)",
                                      got="a torchrun / DistributedDataParallel run",
                                      fix="set adversarial=0 under torchrun, or train in one process"))
        x, lengths, target = batch
        e = model.embedding(x)  # (N, L, E)
        if not e.requires_grad:  # frozen embeddings: the move still needs dl/de
            e = e.detach().requires_grad_(True)
        clean = loss(model.from_embedded(e, lengths), target)
        # (N, L, E); zero at padding, which the packed encoder and the masked attention never read
        g, = torch.autograd.grad(clean, e, retain_graph=True)
        norm = g.flatten(1).norm(dim=1).clamp_min(1e-12)  # (N,)
        scale = eps * lengths.to(e.device, e.dtype).sqrt() / norm  # (N,)
        return clean + loss(model.from_embedded(e + (scale[:, None, None] * g).detach(), lengths), target)

    return loss_fn


@torch.no_grad()
def predict_logits(model: torch.nn.Module, ids: Sequence[list[int]]) -> np.ndarray:
    """Logits ``(N, K)`` in the order of ``ids``, computed in length-sorted padded batches."""
    device = next(model.parameters()).device
    model.eval()
    out = np.empty((len(ids), model.head.out_features), dtype=np.float32)
    for idx in length_batches([len(s) for s in ids], EVAL_BATCH, shuffle=False):
        x, lengths = pad_ids([ids[i] for i in idx])  # (B, L), (B,)
        out[idx] = model(x.to(device), lengths).float().cpu().numpy()
    return out


@torch.no_grad()
def attention_weights(model: torch.nn.Module, ids: list[int]) -> np.ndarray:
    """The attention weights ``(T,)`` of one text's tokens, summing to 1 (renormalised in
    float64, so the sum is 1 to double precision rather than float32's)."""
    device = next(model.parameters()).device
    model.eval()
    x, lengths = pad_ids([ids])  # (1, T), (1,)
    _, a = model(x.to(device), lengths, return_attention=True)  # (1, T)
    a = a[0].double().cpu().numpy()  # (T,)
    return a / a.sum()
