"""The rnnkit model file: one zip of ``rnnkit.json`` and ``weights.safetensors``.

Save with :func:`save_bundle`, read and verify with :func:`read_bundle`; the format is
described in :mod:`rnnkit.bundle.format`. Nothing is ever unpickled.
"""

from rnnkit.bundle.format import FORMAT_VERSION, Bundle
from rnnkit.bundle.reader import read_bundle
from rnnkit.bundle.writer import save_bundle

__all__ = ["Bundle", "FORMAT_VERSION", "read_bundle", "save_bundle"]
