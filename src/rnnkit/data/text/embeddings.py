"""Word vectors from a text file (GloVe / word2vec text format) for a vocabulary.

The file has one word per line followed by its ``E`` numbers, separated by spaces::

    400000 100                 <- optional word2vec header: word count and dimension
    the 0.418 0.24968 -0.41242 ...
    , 0.013441 0.23682 -0.16899 ...

:func:`load_word_vectors` returns an embedding matrix ``W`` ``(V, E)`` in the order of the
vocabulary: the file's vector for each token found (the exact token first, then its
lowercase form), a random vector ``~ N(0, s^2)`` for the rest (``s`` the standard deviation
of the found vectors, so they sit at the same scale), and a zero row for ``<pad>``. It
also reports the **coverage**: the share of the vocabulary's non-reserved tokens found.

A line with a non-number, or with a dimension other than the first vector's (or the
header's), is a :class:`~rnnkit.errors.DataError` naming the file and line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rnnkit.data.text.reading import PathLike, iter_lines
from rnnkit.data.text.vocab import PAD_ID, RESERVED, Vocabulary
from rnnkit.errors import DataError, problem


@dataclass
class WordVectors:
    """What :func:`load_word_vectors` returns."""

    matrix: np.ndarray  # (V, E) float32, rows in vocabulary order, row <pad> all zero
    found: int  # non-reserved vocabulary tokens that had a vector in the file
    coverage: float  # found / (V - reserved tokens)
    dim: int  # E


def _header(parts: list[str]) -> int | None:
    """The dimension of a word2vec header line ``COUNT DIM``, else None."""
    if len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
        return int(parts[1])
    return None


def _vector(parts: list[str], dim: int | None, path: PathLike, number: int) -> np.ndarray:
    where = f"word-vector file {str(path)!r}, line {number}"
    if len(parts) < 2:
        raise DataError(problem(where, expected="a word followed by its numbers",
                                got=repr(" ".join(parts)[:60]), fix="remove or fix the line"))
    try:
        values = np.array(parts[1:], dtype=np.float32)
    except ValueError:
        bad = next(p for p in parts[1:] if not _is_float(p))
        raise DataError(problem(where, expected="numbers after the word", got=repr(bad),
                                fix="a word with spaces breaks the format; fix or remove the "
                                "line")) from None
    if dim is not None and len(values) != dim:
        raise DataError(problem(f"{where} (word {parts[0]!r}) dimension", expected=dim,
                                got=len(values), fix="every vector must have the same length "
                                "as the first one (or the header's); fix or remove the line"))
    return values


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def load_word_vectors(path: PathLike, vocab: Vocabulary, *, dim: int | None = None,
                      encoding: str = "utf-8", seed: int = 0) -> WordVectors:
    """The embedding matrix of ``vocab`` from the word-vector file at ``path``.

    ``dim`` (optional) is the dimension the caller expects; a file of another dimension is
    an error. Only vectors of vocabulary tokens are kept in memory.
    """
    vectors: dict[int, np.ndarray] = {}
    lowered: dict[int, np.ndarray] = {}
    for number, line in iter_lines(path, encoding):
        parts = line.rstrip().split(" ")
        if number == 1 and _header(parts) is not None:
            dim = _check_dim(dim, _header(parts), path)
            continue
        if not line.strip():
            continue
        values = _vector(parts, dim, path, number)
        dim = len(values) if dim is None else dim
        word = parts[0]
        if word in vocab.index and vocab.index[word] >= len(RESERVED):
            vectors[vocab.index[word]] = values
        else:  # a cased file ("The") for a lowercased vocabulary ("the")
            i = vocab.index.get(word.lower(), PAD_ID)
            if i >= len(RESERVED):
                lowered.setdefault(i, values)
    if dim is None:
        raise DataError(problem(f"word-vector file {str(path)!r}", expected="at least one vector",
                                got="none", fix="check the file"))
    for i, v in lowered.items():
        vectors.setdefault(i, v)
    return _matrix(vectors, len(vocab), dim, seed)


def _check_dim(expected: int | None, got: int, path: PathLike) -> int:
    if expected is not None and expected != got:
        raise DataError(problem(f"word-vector file {str(path)!r} dimension", expected=expected,
                                got=got, fix=f"set embedding_dim={got} or use a file of "
                                f"dimension {expected}"))
    return got


def _matrix(vectors: dict[int, np.ndarray], V: int, E: int, seed: int) -> WordVectors:
    rng = np.random.default_rng(seed)
    found = np.stack(list(vectors.values())) if vectors else np.zeros((0, E), np.float32)
    scale = float(found.std()) if len(found) > 1 and math.isfinite(found.std()) else 0.1
    W = rng.normal(0.0, scale or 0.1, size=(V, E)).astype(np.float32)  # (V, E)
    for i, v in vectors.items():
        W[i] = v
    W[PAD_ID] = 0.0
    n = max(V - len(RESERVED), 1)
    return WordVectors(W, len(vectors), len(vectors) / n, E)
