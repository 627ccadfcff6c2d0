"""Training and scoring the language-model network with the shared :class:`~rnnkit.train.Trainer`.

Training is truncated BPTT over ``N = batch_size`` parallel streams
(:mod:`rnnkit.tasks.lm.features`): each batch is the next chunk of ``k = bptt`` steps of
every stream; the trainer runs forward from the state the previous chunk left
(``carry_state``), takes the mean cross-entropy of the ``N k`` next-token predictions,
backpropagates through those ``k`` steps only, clips the gradient norm and steps Adam,
then *detaches* the state before the next chunk (:mod:`rnnkit.train.tbptt`). An epoch is
one pass over the corpus; the state starts from zeros at each epoch.

Early stopping watches the validation bits per character ``val_bpc`` (the model with the
best one is kept), computed by :func:`total_nll` over the held-out records.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from rnnkit.tasks.lm.config import LanguageModelConfig
from rnnkit.tasks.lm.features import IGNORE, batchify, chunks, eval_streams
from rnnkit.train import History, Trainer

EVAL_STREAMS = 32  # at most this many parallel rows when scoring a held-out stream
EVAL_ROW = 4096  # ... and at least this many steps per row (each row starts from zeros)
EVAL_CHUNK = 256  # steps per forward call when scoring


def chunk_loss(model, chunk, state):
    """``loss_fn(model, chunk, state) -> (mean cross-entropy, state)`` for the trainer."""
    x, y = chunk  # (N, k) each
    logits, state = model(x, state)  # (N, k, V)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                           ignore_index=IGNORE), state


@torch.no_grad()
def total_nll(model: torch.nn.Module, stream: torch.Tensor) -> tuple[float, int]:
    """``(sum of -ln p(next token), number of predictions)`` over ``stream`` ``(T,)``: every
    token after the first is predicted once, in up to ``EVAL_STREAMS`` rows of at least
    ``EVAL_ROW`` steps (one row for a short stream), each read with its state carried."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    rows = max(1, min(EVAL_STREAMS, (len(stream) - 1) // EVAL_ROW))
    x, y = eval_streams(stream, rows)  # (N', L)
    total, count, state = 0.0, 0, None
    for xc, yc in chunks(x.to(device), y.to(device), EVAL_CHUNK):
        logits, state = model(xc, state)  # (N', k, V)
        nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).double(), yc.reshape(-1),
                              ignore_index=IGNORE, reduction="sum")
        total += float(nll)
        count += int((yc != IGNORE).sum())
    model.train(was_training)
    return total, count


def bpc_metric(stream: torch.Tensor, characters: int):
    """``evaluate_fn`` for the trainer: validation loss (nats per token) and bits per char."""

    def evaluate(model, _batches) -> dict[str, float]:
        nll, count = total_nll(model, stream)
        return {"val_loss": nll / count, "val_bpc": nll / math.log(2) / characters}

    return evaluate


def train_network(model: torch.nn.Module, train_stream: torch.Tensor,
                  val: tuple[torch.Tensor, int] | None, cfg: LanguageModelConfig,
                  out_dir=None, resume: bool = False) -> History:
    """Fit ``model`` on the id stream ``train_stream`` ``(T,)``; ``val`` is a held-out
    ``(stream, characters)`` for early stopping on ``val_bpc`` (None: no early stopping)."""
    x, y = batchify(train_stream, cfg.batch_size, "LanguageModel.fit")
    batches = chunks(x, y, cfg.bptt)
    train_cfg = cfg.trainer_config(validation=val is not None, tbptt_steps=cfg.bptt,
                                   carry_state=cfg.carry_state, monitor="val_bpc")
    evaluate = bpc_metric(*val) if val else None
    trainer = Trainer(model, chunk_loss, train_cfg, out_dir=out_dir, evaluate_fn=evaluate)
    return trainer.fit(batches, None, resume=resume)
