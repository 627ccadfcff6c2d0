"""Data-parallel training under ``torchrun`` (DistributedDataParallel), and its no-op twin.

The same script runs on one process or many. Under ``torchrun`` (``WORLD_SIZE > 1``) every
rank iterates the *same global batches* (so seed every rank alike, as the trainer does) and
keeps its contiguous slice along ``batch_dim``; DDP averages the gradients, so with a loss
that is a mean over the batch the update equals the single-process one. Every rank draws
the same random numbers (same shuffle order; dropout masks alike across ranks), and every
rank evaluates, with rank 0's metrics deciding early stopping. Only rank 0 writes files
and prints. Launch: ``torchrun --nproc_per_node=N train.py``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from rnnkit.errors import ShapeError, problem
from rnnkit.train.nested import map_tensors


@dataclass
class DistContext:
    """This process's place in the job; ``world_size == 1`` means no process group."""

    rank: int = 0
    world_size: int = 1
    owns_group: bool = False  # we initialised the process group, so we destroy it

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world_size > 1


def init_distributed(device: torch.device) -> DistContext:
    """Join the process group that torchrun describes (gloo on CPU, nccl on CUDA)."""
    if dist.is_available() and dist.is_initialized():
        return DistContext(dist.get_rank(), dist.get_world_size())
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return DistContext()
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return DistContext(dist.get_rank(), dist.get_world_size(), owns_group=True)


def close_distributed(ctx: DistContext) -> None:
    if ctx.owns_group and dist.is_initialized():
        dist.destroy_process_group()


def wrap_model(model: torch.nn.Module, ctx: DistContext, device: torch.device) -> torch.nn.Module:
    """DDP around ``model`` when distributed (it broadcasts rank 0's weights), else ``model``."""
    if not ctx.active:
        return model
    device_ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids)


def shard_batch(batch: Any, ctx: DistContext, batch_dim: int) -> Any:
    """This rank's contiguous slice along ``batch_dim`` of every tensor that has that axis."""
    if not ctx.active:
        return batch

    def take(t: torch.Tensor) -> torch.Tensor:
        if t.ndim <= batch_dim:
            return t
        size = t.shape[batch_dim]
        if size % ctx.world_size:
            raise ShapeError(problem(
                f"distributed: batch size along batch_dim={batch_dim}",
                expected=f"a multiple of the world size {ctx.world_size}", got=size,
                fix="use a global batch size divisible by the number of processes "
                    "(DataLoader(drop_last=True) drops a short last batch)"))
        share = size // ctx.world_size
        return t.narrow(batch_dim, ctx.rank * share, share)

    return map_tensors(batch, take)


def all_true(flag: bool, ctx: DistContext, device: torch.device) -> bool:
    """True on every rank iff ``flag`` is True on every rank."""
    if not ctx.active:
        return flag
    value = torch.tensor(1.0 if flag else 0.0, device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MIN)
    return bool(value.item() == 1.0)


def mean_over_ranks(value: float, ctx: DistContext, device: torch.device) -> float:
    """The average of ``value`` over the ranks."""
    if not ctx.active:
        return value
    tensor = torch.tensor(value, dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return tensor.item() / ctx.world_size


def broadcast_object(obj: Any, ctx: DistContext) -> Any:
    """Rank 0's ``obj`` on every rank (so decisions such as early stopping agree)."""
    if not ctx.active:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def gather_objects(obj: Any, ctx: DistContext) -> list[Any]:
    """Every rank's ``obj``, indexed by rank."""
    if not ctx.active:
        return [obj]
    boxes: list[Any] = [None] * ctx.world_size
    dist.all_gather_object(boxes, obj)
    return boxes
