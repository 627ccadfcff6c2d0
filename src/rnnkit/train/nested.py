"""Walk the tensors inside a batch or a recurrent state.

A batch is a Tensor, a tuple/list (named tuples too) or a dict of them, nested to any
depth; anything else (strings, ints, None) is a leaf that is passed through as is.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

import torch


def map_tensors(obj: Any, fn: Callable[[torch.Tensor], Any]) -> Any:
    """A copy of ``obj`` with ``fn`` applied to every tensor, keeping the container types."""
    if isinstance(obj, torch.Tensor):
        return fn(obj)
    if isinstance(obj, dict):
        return {key: map_tensors(value, fn) for key, value in obj.items()}
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # a named tuple
        return type(obj)(*(map_tensors(value, fn) for value in obj))
    if isinstance(obj, (tuple, list)):
        return type(obj)(map_tensors(value, fn) for value in obj)
    return obj


def iter_tensors(obj: Any) -> Iterator[torch.Tensor]:
    """Every tensor inside ``obj``, depth first."""
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, dict):
        for value in obj.values():
            yield from iter_tensors(value)
    elif isinstance(obj, (tuple, list)):
        for value in obj:
            yield from iter_tensors(value)


def to_device(batch: Any, device: torch.device) -> Any:
    """Move every tensor of ``batch`` to ``device`` (non-tensors pass as is)."""
    return map_tensors(batch, lambda t: t.to(device, non_blocking=device.type == "cuda"))
