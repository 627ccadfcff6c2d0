"""Training the recognizer with the CTC loss on :class:`~rnnkit.train.Trainer`.

Batches are utterances of similar length (:func:`rnnkit.data.bucketing.length_batches`,
re-drawn each epoch from torch's global RNG, so a resumed run replays them). Training
batches get fresh SpecAugment masks each epoch; dev batches never do. A batch is
``(x (B, T, F), lengths (B,), targets (B, S) zero-padded, target_lengths (B,))``.

The loss is ``F.ctc_loss`` (Graves et al. 2006): ``-log p(y | x)`` summed over every
alignment, divided by ``|y|`` and averaged over the batch (``reduction="mean"``); an
utterance too short for its transcript (``T' < |y| + repeats``) has infinite loss and is
zeroed (``zero_infinity``), so one bad pair cannot blow up a run. Early stopping and
the best weights follow ``monitor``: ``val_wer`` (greedy decoding of the dev set) or
``val_loss`` (its CTC loss, pooled per utterance).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from rnnkit.data.bucketing import length_batches, pad
from rnnkit.tasks.asr import decoding, metrics
from rnnkit.tasks.asr.config import SpeechRecognizerConfig
from rnnkit.train import History, Trainer

EVAL_BATCH = 64


class SpeechBatches:
    """Padded utterance batches grouped by length; ``augment(feats)`` per training item."""

    def __init__(self, features: Sequence[Tensor], targets: Sequence[Sequence[int]], batch_size: int,
                 *, shuffle: bool, augment: Callable[[Tensor], Tensor] | None = None) -> None:
        self.features, self.targets = list(features), [list(t) for t in targets]
        self.lengths = np.array([len(f) for f in self.features], dtype=np.int64)
        self.batch_size, self.shuffle, self.augment = batch_size, shuffle, augment

    def __len__(self) -> int:
        return len(length_batches(self.lengths, self.batch_size, shuffle=False))

    def __iter__(self):
        for idx in length_batches(self.lengths, self.batch_size, shuffle=self.shuffle):
            feats = [self.features[i] for i in idx]
            if self.augment is not None:
                feats = [self.augment(f) for f in feats]
            x, lengths = pad(feats)  # (B, T, F), (B,)
            labels = [self.targets[i] for i in idx]
            target_lengths = torch.tensor([len(t) for t in labels], dtype=torch.int64)
            targets = torch.zeros(len(idx), max(1, int(target_lengths.max())), dtype=torch.int64)
            for row, t in enumerate(labels):
                targets[row, : len(t)] = torch.as_tensor(t, dtype=torch.int64)
            yield x, lengths, targets, target_lengths


def ctc_loss(model, batch, reduction: str = "mean") -> Tensor:
    x, lengths, targets, target_lengths = batch
    log_probs, out_lengths = model(x, lengths)  # (B, T', C), (B,)
    return F.ctc_loss(log_probs.transpose(0, 1).float(), targets, out_lengths, target_lengths,
                      blank=0, reduction=reduction, zero_infinity=True)


def too_short(frames: Sequence[int], targets: Sequence[Sequence[int]], subsample: int) -> list[int]:
    """Indices of utterances whose ``T'`` output frames cannot hold their transcript
    (``|y|`` labels plus one blank between each doubled letter)."""
    from rnnkit.tasks.asr.model import output_lengths

    out = output_lengths(torch.as_tensor(list(frames), dtype=torch.int64), subsample).tolist()
    bad = []
    for i, (n, y) in enumerate(zip(out, targets)):
        need = len(y) + sum(1 for a, b in zip(y, y[1:]) if a == b)
        if n < need:
            bad.append(i)
    return bad


def make_evaluate(texts: Sequence[str]):
    """``evaluate_fn`` for the trainer: dev CTC loss per utterance and greedy WER."""

    def evaluate(model, batches) -> dict[str, float]:
        device = next(model.parameters()).device
        loss, count, hyps = 0.0, 0, []
        for x, lengths, targets, target_lengths in batches:
            log_probs, out_lengths = model(x.to(device), lengths.to(device))
            per = F.ctc_loss(log_probs.transpose(0, 1).float(), targets.to(device), out_lengths,
                             target_lengths.to(device), blank=0, reduction="none", zero_infinity=True)
            loss += float((per / target_lengths.clamp(min=1).to(device)).sum())
            count += len(x)
            hyps += decoding.decode_batch(log_probs, out_lengths)
        # the dev batches are length-sorted: recover each hypothesis' reference
        return {"val_loss": loss / max(count, 1), "val_wer": metrics.wer(batches.ordered(texts), hyps)}

    return evaluate


class DevBatches(SpeechBatches):
    """Fixed (unshuffled, unaugmented) dev batches that remember their utterance order."""

    def __init__(self, features, targets, batch_size: int = EVAL_BATCH) -> None:
        super().__init__(features, targets, batch_size, shuffle=False)
        self.order = np.concatenate(length_batches(self.lengths, batch_size, shuffle=False))
        self._cached = list(super().__iter__())

    def __iter__(self):
        return iter(self._cached)

    def ordered(self, items: Sequence) -> list:
        return [items[i] for i in self.order]


def train_network(model: torch.nn.Module, train: tuple[list[Tensor], list[list[int]]],
                  dev: tuple[list[Tensor], list[list[int]], list[str]] | None,
                  cfg: SpeechRecognizerConfig, augment=None, out_dir=None,
                  resume: bool = False) -> History:
    """Fit ``model`` on ``train = (features, label ids)``; early stopping on ``dev = (features,
    label ids, texts)`` when given."""
    batches = SpeechBatches(*train, cfg.batch_size, shuffle=True, augment=augment)
    val = DevBatches(dev[0], dev[1]) if dev is not None and len(dev[0]) else None
    plateau = cfg.schedule == "plateau" and val is not None
    schedule = "plateau" if plateau else ("cosine" if cfg.schedule == "cosine" else "none")
    train_cfg = cfg.trainer_config(validation=val is not None, schedule=schedule,
                                   warmup_steps=0 if plateau else cfg.warmup_steps,
                                   min_lr=cfg.lr / 50 if schedule == "cosine" else 0.0,
                                   monitor=cfg.monitor if val is not None else "val_loss")
    evaluate = make_evaluate(dev[2]) if val is not None else None
    trainer = Trainer(model, ctc_loss, train_cfg, out_dir=out_dir, evaluate_fn=evaluate)
    return trainer.fit(batches, val, resume=resume)


@torch.no_grad()
def log_probs_of(model: torch.nn.Module, features: Sequence[Tensor]) -> list[Tensor]:
    """Per utterance its log-probabilities ``(T'_n, C)`` (CPU), in the order given; length-sorted
    padded batches inside. An utterance of zero frames gets ``(0, C)``."""
    device = next(model.parameters()).device
    model.eval()
    out: list[Tensor | None] = [None] * len(features)
    lengths = [len(f) for f in features]
    for idx in length_batches(lengths, EVAL_BATCH, shuffle=False):
        real = [i for i in idx if lengths[i] > 0]
        for i in idx:
            if lengths[i] == 0:
                out[i] = torch.zeros(0, model.head.out_features)
        if not real:
            continue
        x, lens = pad([features[i] for i in real])
        lp, out_lens = model(x.to(device), lens.to(device))
        lp = lp.float().cpu()
        for row, i in enumerate(real):
            out[i] = lp[row, : int(out_lens[row])]
    return out
