"""``rnnkit.train``: one trainer for every task.

A task hands the :class:`Trainer` a model, a loss function and batches; the trainer does
full or truncated BPTT, optimizers and schedules, clipping, gradient accumulation, mixed
precision, early stopping, exact checkpoint/resume, logging and data-parallel training
under ``torchrun``::

    from rnnkit.train import Trainer, TrainConfig

    def loss_fn(model, batch):
        x, y = batch
        return torch.nn.functional.mse_loss(model(x), y)

    cfg = TrainConfig(epochs=20, lr=1e-3, optimizer="adam", patience=3)
    history = Trainer(model, loss_fn, cfg, out_dir="runs/exp1").fit(train_loader, val_loader)
"""

from rnnkit.train.config import TrainConfig
from rnnkit.train.history import History
from rnnkit.train.trainer import Trainer

__all__ = ["Trainer", "TrainConfig", "History"]
