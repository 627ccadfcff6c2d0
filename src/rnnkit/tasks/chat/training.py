"""Training the dual encoder with in-batch negatives, and encoding texts in batches.

A batch holds ``N`` (context, reply) pairs; every other reply of the batch is a negative
of a context. With scores ``S = scale * C R^T`` ``(N, N)`` the loss is the cross-entropy
of picking the true reply::

    L = -(1/N) sum_i log softmax(S_i)_i                 (rows: contexts)
    L_sym = (L + -(1/N) sum_j log softmax(S^T_j)_j) / 2  (symmetric=True: also the columns)

Two pairs of a batch with the same reply (after case and space normalisation: "lol",
"yes") are not negatives of each other: those entries of ``S`` are masked out. Batches
hold pairs of similar context length (less padding); a share ``val_fraction`` of the
pairs is held out, and each epoch reports its in-batch ``val_loss`` and ``val_recall@1``
(Recall@1 of 10 candidates, drawn once with the seed; fewer when the held-out pairs have
fewer distinct replies) for early stopping
(``monitor``), with the learning rate halved on plateaus
(:meth:`~rnnkit.tasks.core.TrainSettings.trainer_config`).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from rnnkit.data.bucketing import length_batches
from rnnkit.data.text.batches import pad_ids
from rnnkit.tasks.chat.config import ChatConfig
from rnnkit.tasks.chat.metrics import draw_candidates, recall_at
from rnnkit.train import History, Trainer

EVAL_BATCH = 256
VAL_CANDIDATES = 10


class PairBatches:
    """Padded batches ``(context (B, L), context_lengths (B,), reply (B, T), reply_lengths
    (B,), reply_keys (B,))`` of pairs with similar context length; ``shuffle`` draws new
    batches each pass from torch's global RNG (so a resumed Trainer run replays them)."""

    def __init__(self, contexts: Sequence[list[int]], replies: Sequence[list[int]],
                 keys: Sequence[int], batch_size: int, shuffle: bool) -> None:
        self.contexts, self.replies = list(contexts), list(replies)
        self.keys = torch.as_tensor(np.asarray(keys, dtype=np.int64))
        self.lengths = np.array([len(c) for c in self.contexts], dtype=np.int64)
        self.batch_size, self.shuffle = batch_size, shuffle

    def __len__(self) -> int:
        return len(length_batches(self.lengths, self.batch_size, shuffle=False))

    def __iter__(self):
        for idx in length_batches(self.lengths, self.batch_size, shuffle=self.shuffle):
            if self.shuffle and len(idx) < 2:  # no negative to learn from (and no batch norm)
                continue
            c, c_len = pad_ids([self.contexts[i] for i in idx])  # (B, L), (B,)
            r, r_len = pad_ids([self.replies[i] for i in idx])  # (B, T), (B,)
            yield c, c_len, r, r_len, self.keys[torch.as_tensor(idx)]


def in_batch_loss(scores: torch.Tensor, keys: torch.Tensor, symmetric: bool,
                  reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy of the diagonal of ``scores`` ``(N, N)`` (module doc); off-diagonal
    entries whose reply key equals the row's are masked out."""
    same = (keys[:, None] == keys[None, :]) & ~torch.eye(len(keys), dtype=torch.bool, device=keys.device)
    scores = scores.masked_fill(same, float("-inf"))  # (N, N)
    target = torch.arange(len(keys), device=scores.device)
    loss = F.cross_entropy(scores, target, reduction=reduction)
    if symmetric:
        loss = (loss + F.cross_entropy(scores.T, target, reduction=reduction)) / 2
    return loss


def split(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(train, validation)`` indices: a random share ``fraction`` held out."""
    perm = np.random.default_rng(seed).permutation(n)
    n_val = int(np.floor(n * fraction + 0.5)) if fraction > 0 else 0
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def validation_metrics(cfg: ChatConfig, contexts, replies, keys):
    """``evaluate_fn`` for the trainer: the in-batch loss over the held-out pairs (batches of
    ``batch_size``, as in training) and their Recall@1 of 10 (candidates drawn once)."""
    batches = list(PairBatches(contexts, replies, keys, cfg.batch_size, shuffle=False))
    n = min(VAL_CANDIDATES, len(np.unique(keys)))  # fewer on a tiny held-out share
    candidates = draw_candidates(np.asarray(keys), n, cfg.seed)  # (M, n)

    def evaluate(model, _batches) -> dict[str, float]:
        total, count = 0.0, 0
        for batch in batches:
            c, c_len, r, r_len, k = batch
            scores = model(c.to(model_device(model)), c_len, r.to(model_device(model)), r_len)
            total += float(in_batch_loss(scores, k.to(scores.device), cfg.symmetric, "sum"))
            count += len(k)
        C = encode_all(model.encode_context, contexts)  # (M, K)
        R = encode_all(model.encode_reply, replies)  # (M, K)
        scores = np.einsum("mk,mjk->mj", C, R[candidates])  # (M, n), true reply in column 0
        recall = recall_at(scores, (1,), np.random.default_rng(cfg.seed))[1] if len(candidates) else 0.0
        return {"val_loss": total / max(count, 1), "val_recall@1": recall}

    return evaluate


def model_device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def train_network(model: torch.nn.Module, contexts: list[list[int]], replies: list[list[int]],
                  keys: np.ndarray, cfg: ChatConfig, out_dir=None, resume: bool = False) -> History:
    """Fit ``model`` on id pairs with in-batch negatives (module doc)."""
    train_idx, val_idx = split(len(contexts), cfg.val_fraction, cfg.seed)
    if len(train_idx) < 2:
        train_idx, val_idx = np.arange(len(contexts)), val_idx[:0]
    train = PairBatches([contexts[i] for i in train_idx], [replies[i] for i in train_idx],
                        keys[train_idx], cfg.batch_size, shuffle=True)
    validation = len(np.unique(keys[val_idx])) >= 2  # Recall@1 needs a wrong candidate
    evaluate = validation_metrics(cfg, [contexts[i] for i in val_idx], [replies[i] for i in val_idx],
                                  keys[val_idx]) if validation else None
    monitor = "val_recall@1" if cfg.monitor == "recall@1" else "val_loss"
    task = dict(monitor=monitor, mode="max" if cfg.monitor == "recall@1" else "min") if validation else {}

    def loss_fn(model, batch):
        c, c_len, r, r_len, k = batch
        return in_batch_loss(model(c, c_len, r, r_len), k, cfg.symmetric)

    trainer = Trainer(model, loss_fn, cfg.trainer_config(validation=validation, **task), out_dir=out_dir,
                      evaluate_fn=evaluate)
    return trainer.fit(train, None, resume=resume)  # evaluate_fn holds the held-out pairs


@torch.no_grad()
def encode_all(encode, ids: Sequence[list[int]], batch: int = EVAL_BATCH) -> np.ndarray:
    """Unit vectors ``(N, K)`` float32 of id lists, in the order given, computed in
    length-sorted padded batches by ``encode`` (a model's ``encode_context`` or
    ``encode_reply``; the model is put in eval mode by the caller)."""
    if not len(ids):
        return np.zeros((0, 0), dtype=np.float32)
    out = None
    for idx in length_batches([len(s) for s in ids], batch, shuffle=False):
        x, lengths = pad_ids([ids[i] for i in idx])  # (B, L), (B,)
        owner = encode.__self__
        v = encode(x.to(model_device(owner)), lengths).float().cpu().numpy()  # (B, K)
        if out is None:
            out = np.empty((len(ids), v.shape[1]), dtype=np.float32)
        out[idx] = v
    return out
