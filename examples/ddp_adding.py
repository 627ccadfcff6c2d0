"""Data-parallel training with torchrun: the same script runs on one process or many.

    python examples/ddp_adding.py                                  # one process
    torchrun --nproc_per_node 2 examples/ddp_adding.py             # two processes (gloo on CPU)

Each process takes its slice of every global batch; DDP averages the gradients, so both
runs end with the same weights (up to float rounding). Only rank 0 writes the run folder.
"""

import os

import torch

import rnnkit
from rnnkit.data.synthetic import adding_problem
from rnnkit.train import TrainConfig, Trainer


class Regressor(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = rnnkit.nn.GRU(2, 32, batch_first=True)
        self.head = torch.nn.Linear(32, 1)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


def mse(model, batch):
    x, y = batch
    return torch.nn.functional.mse_loss(model(x), y)


def main():
    torch.set_num_threads(1)
    x, y = adding_problem(64 * 50, 30, seed=0)
    batches = [(x[i:i + 64], y[i:i + 64]) for i in range(0, len(x), 64)]  # global batches of 64
    torch.manual_seed(0)
    model = Regressor()
    cfg = TrainConfig(epochs=3, lr=1e-2, grad_clip_norm=1.0, progress="plain", seed=0)
    Trainer(model, mse, cfg, out_dir="runs/ddp_adding").fit(batches)
    if int(os.environ.get("RANK", 0)) == 0:
        print("final weight checksum:", float(sum(p.double().sum() for p in model.parameters())))


if __name__ == "__main__":
    main()
