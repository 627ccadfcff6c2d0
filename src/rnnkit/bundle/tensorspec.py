"""What a tensor in a model file is, without its data: :class:`TensorSpec`.

The reader builds one per tensor from the safetensors header, before any tensor data is
read, so a caller's ``check`` can compare the file with the network its config implies
and refuse it before memory is allocated for the weights.
"""

from __future__ import annotations

import dataclasses

import torch

# safetensors dtype name -> (torch dtype, bytes per element). Only these are accepted.
DTYPES: dict[str, tuple[torch.dtype, int]] = {
    "F64": (torch.float64, 8),
    "F32": (torch.float32, 4),
    "F16": (torch.float16, 2),
    "BF16": (torch.bfloat16, 2),
    "I64": (torch.int64, 8),
    "I32": (torch.int32, 4),
    "I16": (torch.int16, 2),
    "I8": (torch.int8, 1),
    "U8": (torch.uint8, 1),
    "BOOL": (torch.bool, 1),
}
_NAMES: dict[torch.dtype, str] = {dtype: name for name, (dtype, _) in DTYPES.items()}
FLOAT_DTYPES = frozenset({"F64", "F32", "F16", "BF16"})


@dataclasses.dataclass(frozen=True)
class TensorSpec:
    """A tensor's safetensors dtype name (``"F32"``, ``"I64"``, ``"BOOL"``, ...) and shape."""

    dtype: str
    shape: tuple[int, ...]

    @classmethod
    def of(cls, tensor: torch.Tensor) -> TensorSpec:
        """The spec of ``tensor`` (works for meta tensors: only dtype and shape are read)."""
        try:
            name = _NAMES[tensor.dtype]
        except KeyError:
            raise ValueError(f"TensorSpec.of: dtype {tensor.dtype} has no safetensors name "
                             f"that rnnkit reads (known: {sorted(DTYPES)})") from None
        return cls(dtype=name, shape=tuple(int(n) for n in tensor.shape))

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return DTYPES[self.dtype][1]

    @property
    def numel(self) -> int:
        """Number of elements (1 for a 0-d tensor)."""
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def nbytes(self) -> int:
        """Size of the tensor's data in bytes."""
        return self.numel * self.itemsize
