"""Training a sequence-to-sequence network with teacher forcing.

A pair ``(x, y)`` becomes the source ids ``x``, the decoder input ``<bos> y_1 .. y_n`` and
the decoder target ``y_1 .. y_n <eos>``. The loss is the token-level cross-entropy

    L = -(1 / #tokens) sum_{n, t <= |y_n| + 1} log p(y_{n,t} | y_{n,<t}, x_n)

over the real target tokens of the batch (``<pad>`` ignored), optionally label-smoothed.
Word dropout (``word_dropout = p``; Gal & Ghahramani 2016, Sennrich & Zhang 2019) turns each
real token of ``x`` and of the decoder input (``<bos>`` kept) into ``<unk>`` with probability
``p`` in training, so the model learns to translate around words it has not seen.
Guided alignment (``guided_alignment = lambda``; Chen et al. 2016, "Guided Alignment Training
for Topic-Aware Neural Machine Translation") adds ``lambda`` times a cross-entropy between
the decoder's attention ``a_t`` ``(S,)`` and the alignment that the IBM-1 lexicon gives the
reference token ``y_t`` (:func:`lexicon_alignment`)::

    A_t(s) = lex(y_t | x_s) / sum_s' lex(y_t | x_s')
    L_align = -(1 / #aligned) sum_{n, t aligned} sum_s A_{n,t}(s) log a_{n,t}(s)

A target token that no source token's lexicon row holds (``<eos>``, most function words'
rarer forms) has no alignment and adds nothing. Attention learned from a few thousand pairs
alone tends to collapse onto a few source positions (the final ``.``); the lexicon's
alignment tells it where each reference word comes from.
The coverage loss (``coverage_loss = lambda``; See et al. 2017, "Get To The Point") adds
``lambda`` times the attention a step gives to source tokens already attended before it::

    C_{t-1}(s) = sum_{t' < t} a_{t'}(s)
    L_cov = (1 / #tokens) sum_{n, t} sum_s min(a_{n,t}(s), C_{n,t-1}(s))

which is 0 while every step attends new source tokens and grows when the decoder keeps
returning to the same ones (the repetitions ``the the``, ``was was``).
Batches hold pairs of similar source length; a share ``val_fraction`` of the pairs is held
out for early stopping on the validation loss, with the learning rate halved on plateaus
(:meth:`~rnnkit.tasks.core.TrainSettings.trainer_config`).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from rnnkit.data.bucketing import length_batches
from rnnkit.data.text.batches import pad_ids
from rnnkit.data.text.vocab import BOS_ID, EOS_ID, PAD_ID, UNK_ID
from rnnkit.tasks.seq2seq.config import Seq2SeqConfig
from rnnkit.train import History, Trainer

EVAL_BATCH = 128


class PairBatches:
    """Padded batches ``(src (B, S), src_lengths (B,), target_in (B, T), target_out (B, T))``
    of pairs with similar source length; ``shuffle`` draws new batches each pass from
    torch's global RNG (so a resumed Trainer run replays them)."""

    def __init__(self, sources: Sequence[list[int]], targets: Sequence[list[int]],
                 batch_size: int, shuffle: bool) -> None:
        self.sources, self.targets = list(sources), list(targets)
        self.lengths = np.array([len(s) for s in self.sources], dtype=np.int64)
        self.batch_size, self.shuffle = batch_size, shuffle

    def __len__(self) -> int:
        return len(length_batches(self.lengths, self.batch_size, shuffle=False))

    def __iter__(self):
        for idx in length_batches(self.lengths, self.batch_size, shuffle=self.shuffle):
            yield make_batch([self.sources[i] for i in idx], [self.targets[i] for i in idx])


def make_batch(sources: Sequence[list[int]], targets: Sequence[list[int]]):
    src, lengths = pad_ids(sources)  # (B, S), (B,)
    target_in, _ = pad_ids([[BOS_ID] + list(t) for t in targets])  # (B, T)
    target_out, _ = pad_ids([list(t) + [EOS_ID] for t in targets])  # (B, T)
    return src, lengths, target_in, target_out


def drop_words(batch, p: float):
    """``batch`` with each real token of the source and of the decoder input (not ``<bos>``)
    replaced by ``<unk>`` with probability ``p`` (torch's RNG, so a resumed run replays it)."""
    src, lengths, target_in, target_out = batch

    def drop(ids, keep):
        hit = (torch.rand(ids.shape, device=ids.device) < p) & keep
        return ids.masked_fill(hit, UNK_ID)

    return (drop(src, src != PAD_ID), lengths,
            drop(target_in, (target_in != PAD_ID) & (target_in != BOS_ID)), target_out)


def token_loss(model, batch, label_smoothing: float = 0.0, reduction: str = "mean") -> torch.Tensor:
    src, lengths, target_in, target_out = batch
    return logits_loss(model(src, lengths, target_in), target_out, label_smoothing, reduction)


def logits_loss(logits: torch.Tensor, target_out: torch.Tensor, label_smoothing: float = 0.0,
                reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy of logits ``(B, T, V)`` against ``target_out`` ``(B, T)``, ``<pad>`` ignored."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target_out.reshape(-1),
                           ignore_index=PAD_ID, label_smoothing=label_smoothing, reduction=reduction)


def lexicon_alignment(model, src: torch.Tensor, target_out: torch.Tensor
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """The lexicon's alignment of each reference token: ``(A (B, T, S), aligned (B, T))``,
    ``A[n, t]`` a distribution over the real source positions where ``aligned[n, t]``
    (some source token's lexicon row holds ``y_t``; see the module doc), 0 elsewhere."""
    net = getattr(model, "module", model)  # under DistributedDataParallel
    index, prob = net.lex_index[src], net.lex_prob[src]  # (B, S, K) each
    hit = index[:, None, :, :] == target_out[:, :, None, None]  # (B, T, S, K)
    weight = (hit * prob[:, None]).sum(-1).masked_fill((src == PAD_ID)[:, None, :], 0.0)  # (B, T, S)
    total = weight.sum(-1)  # (B, T)
    aligned = (total > 0) & (target_out != PAD_ID)
    return weight / total.clamp_min(1e-12)[..., None], aligned


def alignment_loss(attention: torch.Tensor, target: torch.Tensor, aligned: torch.Tensor) -> torch.Tensor:
    """Mean over the aligned tokens of ``-sum_s A(s) log a(s)``; attention and target ``(B, T, S)``,
    ``aligned`` ``(B, T)``. 0 when no token is aligned."""
    per_token = -(target * torch.log(attention.clamp_min(1e-9))).sum(-1)  # (B, T)
    return (per_token * aligned).sum() / aligned.sum().clamp_min(1)


def coverage_loss(attention: torch.Tensor, target_out: torch.Tensor) -> torch.Tensor:
    """Mean over the real target tokens of ``sum_s min(a_t(s), C_{t-1}(s))`` (see the module
    doc); ``attention`` ``(B, T, S)``, ``target_out`` ``(B, T)`` (``<pad>`` steps left out)."""
    before = attention.cumsum(1) - attention  # (B, T, S): C_{t-1}, 0 at t = 1
    per_token = torch.minimum(attention, before).sum(-1)  # (B, T)
    real = target_out != PAD_ID
    return (per_token * real).sum() / real.sum().clamp_min(1)


def split(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(train, validation)`` indices: a random share ``fraction`` held out."""
    perm = np.random.default_rng(seed).permutation(n)
    n_val = int(np.floor(n * fraction + 0.5)) if fraction > 0 else 0
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def validation_metrics(model, batches) -> dict[str, float]:
    """Token-level mean loss and perplexity over every validation pair (``evaluate_fn``)."""
    device = next(model.parameters()).device
    total, count = 0.0, 0
    for batch in batches:
        batch = tuple(t.to(device) for t in batch)
        total += float(token_loss(model, batch, reduction="sum"))
        count += int((batch[3] != PAD_ID).sum())
    return {"val_loss": total / count, "val_perplexity": math.exp(total / count)}


def train_network(model: torch.nn.Module, sources: list[list[int]], targets: list[list[int]],
                  cfg: Seq2SeqConfig, out_dir=None, resume: bool = False) -> History:
    """Fit ``model`` on id pairs with teacher forcing (see the module doc)."""
    train_idx, val_idx = split(len(sources), cfg.val_fraction, cfg.seed)

    def batches(idx, size, shuffle):
        return PairBatches([sources[i] for i in idx], [targets[i] for i in idx], size, shuffle)

    val = list(batches(val_idx, EVAL_BATCH, False)) if len(val_idx) else None
    train_cfg = cfg.trainer_config(validation=val is not None)

    def loss_fn(model, batch):
        guide = lexicon_alignment(model, batch[0], batch[3]) if cfg.guided_alignment > 0 else None
        if cfg.word_dropout > 0 and model.training:  # the alignment is the true words'
            batch = drop_words(batch, cfg.word_dropout)
        if guide is None and not cfg.coverage_loss:
            return token_loss(model, batch, cfg.label_smoothing)
        src, lengths, target_in, target_out = batch
        logits, attention = model(src, lengths, target_in, return_attention=True)  # (B, T, V), (B, T, S)
        loss = logits_loss(logits, target_out, cfg.label_smoothing)
        if guide is not None:
            loss = loss + cfg.guided_alignment * alignment_loss(attention, *guide)
        if cfg.coverage_loss:
            loss = loss + cfg.coverage_loss * coverage_loss(attention, target_out)
        return loss

    trainer = Trainer(model, loss_fn, train_cfg, out_dir=out_dir,
                      evaluate_fn=validation_metrics if val else None)
    return trainer.fit(batches(train_idx, cfg.batch_size, True), val, resume=resume)


@torch.no_grad()
def total_nll(model: torch.nn.Module, sources: list[list[int]], targets: list[list[int]]
              ) -> tuple[float, int]:
    """``(sum of -log p(y_t | y_<t, x), number of target tokens incl. <eos>)`` over the pairs."""
    device = next(model.parameters()).device
    model.eval()
    total, count = 0.0, 0
    for idx in length_batches([len(s) for s in sources], EVAL_BATCH, shuffle=False):
        batch = make_batch([sources[i] for i in idx], [targets[i] for i in idx])
        batch = tuple(t.to(device) for t in batch)
        total += float(token_loss(model, batch, reduction="sum"))
        count += int((batch[3] != PAD_ID).sum())
    return total, count
