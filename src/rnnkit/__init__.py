"""rnnkit: recurrent neural networks from sequence data to a deployed model."""

from rnnkit._version import __version__
from rnnkit import nn

__all__ = ["__version__", "nn"]
