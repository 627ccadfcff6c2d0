"""The recognizer's character vocabulary: what the CTC output layer predicts.

Ids: ``0`` is the CTC blank, ``1`` the space (word boundary), ``2..27`` the letters
``a..z`` and ``28`` the apostrophe: ``C = 29`` classes. Text is normalised before it is
encoded: lower case, any run of whitespace becomes one space, no space at either end.
A character outside the alphabet (a digit, punctuation) is an error by default, or is
dropped with a warning (``unknown="drop"``): transcripts spell digits out ("three one").
"""

from __future__ import annotations

import re
import warnings
from typing import Iterable, Sequence

from rnnkit.errors import ConfigError, DataError, problem, unknown_name

BLANK = 0
SPACE = 1
SYMBOLS = " abcdefghijklmnopqrstuvwxyz'"  # ids 1..28; id 0 is the blank
SIZE = len(SYMBOLS) + 1  # C = 29
UNKNOWN = ("error", "drop")

_ID = {ch: i + 1 for i, ch in enumerate(SYMBOLS)}
_SPACES = re.compile(r"\s+")


def normalise(text: str) -> str:
    """Lower case, whitespace runs -> one space, stripped."""
    return _SPACES.sub(" ", str(text).lower()).strip()


def encode(text: str, *, unknown: str = "error", where: str = "transcript") -> list[int]:
    """Normalised ``text`` -> ids in ``1..28`` (never the blank).

    Raises:
        DataError: a character outside the alphabet with ``unknown="error"``.
    """
    if unknown not in UNKNOWN:
        raise ConfigError(unknown_name("unknown-character policy", str(unknown), UNKNOWN))
    text = normalise(text)
    bad = sorted({ch for ch in text if ch not in _ID})
    if bad and unknown == "error":
        raise DataError(problem(f"{where} {text!r}", expected=f"only the characters {SYMBOLS.strip()!r}, "
                                "space and apostrophe", got=f"{''.join(bad)!r}",
                                fix="spell digits and symbols out as words ('3' -> 'three')"))
    if bad:
        warnings.warn(f"{where} {text!r}: dropped characters outside the alphabet: {''.join(bad)!r}",
                      UserWarning, stacklevel=2)
        text = normalise("".join(ch for ch in text if ch in _ID))
    return [_ID[ch] for ch in text]


def decode(ids: Iterable[int]) -> str:
    """Ids -> normalised text; blanks (0) are skipped. No CTC collapsing here (see
    :mod:`rnnkit.tasks.asr.decoding`)."""
    return normalise("".join(SYMBOLS[i - 1] for i in ids if i != BLANK))


def encode_many(texts: Sequence[str], *, unknown: str = "error") -> list[list[int]]:
    return [encode(t, unknown=unknown, where=f"transcript {i}") for i, t in enumerate(texts)]


def char_id(ch: str) -> int:
    """The id of one alphabet character (space included)."""
    return _ID[ch]
