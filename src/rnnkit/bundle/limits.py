"""Every size limit the reader enforces, in one place, with the reason for each value.

A model file may come from anyone, so each limit is checked *before* the memory it
guards is allocated: the zip's central directory before :mod:`zipfile` builds its member
list, a member's declared sizes and compression ratio before it is inflated, the JSON's
nesting and container count before :func:`json.loads` builds objects, and the
safetensors header before any tensor data is read. Honest files are far inside every
limit: the rnnkit.json of every task's model in tests/fixtures/v1_models is under 4 KiB
with at most 31 containers, 131 commas and depth 7.
"""

from __future__ import annotations

from rnnkit.bundle.format import JSON_MEMBER, WEIGHTS_MEMBER, MiB

# -- the archive ---------------------------------------------------------------------
# rnnkit writes 2 members; a central directory of a few hundred bytes. 64 KiB holds
# ~1,000 entries of short names: ample for an error message, tiny for memory.
MAX_CENTRAL_DIRECTORY = 64 * 1024
MAX_ENTRIES = 16

# The largest uncompressed size per member is format.MEMBER_LIMITS (64 MiB of JSON,
# 8 GiB of weights); the JSON's real bound is MAX_VALUES and MAX_CONTAINERS below.

# Largest uncompressed / compressed ratio of a deflated member. rnnkit stores the
# weights uncompressed; float weights deflate by ~1.1x, so 4x is already suspicious.
# JSON of numbers and names deflates ~3x (the fixtures: 2-3.5x); only long runs of one
# repeated value reach 100x, which is what a bomb is made of.
MAX_RATIO: dict[str, float] = {JSON_MEMBER: 200.0, WEIGHTS_MEMBER: 4.0}
# A member this small may have any ratio (a few KiB cannot hurt).
RATIO_FREE_BYTES = 1 * MiB

# -- rnnkit.json ----------------------------------------------------------------------
MAX_DEPTH = 64               # nesting of [ and {; the fixtures reach 7
MAX_CONTAINERS = 100_000     # lists + dicts; the fixtures hold <= 31
MAX_VALUES = 4_000_000       # commas, ~ values; a 1M-word vocabulary is 1M
# Per-section limits on the canonical JSON encoding. metrics is served by
# GET /v1/models, so it stays small; config is constructor arguments.
SECTION_LIMITS: dict[str, int] = {"config": 256 * 1024, "metrics": 1 * MiB}

# -- weights.safetensors --------------------------------------------------------------
# The header is one JSON object of ~100 bytes per tensor: 8 MiB is ~80,000 tensors.
MAX_SAFETENSORS_HEADER = 8 * MiB
MAX_TENSORS = 100_000
MAX_RANK = 16
