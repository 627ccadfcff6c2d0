"""The rnnkit model file: one zip of ``rnnkit.json`` and ``weights.safetensors``.

Save with :func:`save_bundle`, read and verify with :func:`read_bundle`; the format is
described in :mod:`rnnkit.bundle.format`, the size limits in :mod:`rnnkit.bundle.limits`,
the content digest in :mod:`rnnkit.bundle.digest` and signatures in
:mod:`rnnkit.bundle.signing`. Nothing is ever unpickled.
"""

from rnnkit.bundle.digest import content_sha256
from rnnkit.bundle.format import FORMAT_VERSION, Bundle
from rnnkit.bundle.reader import read_bundle
from rnnkit.bundle.signed_files import Verification, sign_bundle, verify_bundle
from rnnkit.bundle.signing import fingerprint, generate_key, load_public_key
from rnnkit.bundle.tensorspec import TensorSpec
from rnnkit.bundle.writer import save_bundle

__all__ = ["Bundle", "FORMAT_VERSION", "TensorSpec", "Verification", "content_sha256",
           "fingerprint", "generate_key", "load_public_key", "read_bundle", "sign_bundle",
           "save_bundle", "verify_bundle"]
