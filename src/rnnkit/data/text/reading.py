"""Reading text files with an error a person can act on.

A file that is not valid in the expected encoding raises :class:`~rnnkit.errors.DataError`
naming the file, the byte offset and line of the first bad byte, and the fix (the
encoding to pass, or re-saving the file as UTF-8) — never a bare ``UnicodeDecodeError``
traceback.

>>> text = read_text("reviews.txt")                       # UTF-8
>>> text = read_text("old.txt", encoding="latin-1")       # any byte is valid latin-1
>>> frame = read_text_table("reviews.csv")                # a CSV, decoded the same way
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Iterator

import pandas as pd

from rnnkit.errors import DataError, problem

PathLike = str | os.PathLike


def _decode_error(path: Path, err: UnicodeDecodeError, encoding: str, data: bytes,
                  base: int = 0) -> DataError:
    """The :class:`DataError` for bytes ``data`` (starting at file offset ``base``) that
    ``encoding`` cannot decode."""
    offset = base + err.start
    line = data[: err.start].count(b"\n") + 1 if base == 0 else None
    bad = data[err.start: min(err.end, err.start + 4)]
    where = f"text file {str(path)!r} at byte offset {offset}" + (f" (line {line})" if line else "")
    fix = ('pass the file\'s encoding, e.g. encoding="latin-1" or encoding="cp1252", or '
           're-save the file as UTF-8') if encoding.lower().replace("-", "") in ("utf8", "utf8sig") \
        else "pass the file's real encoding, or re-save the file as UTF-8"
    return DataError(problem(where, expected=f"{encoding} text",
                             got=f"the bytes {bad!r}, not valid {encoding} ({err.reason})", fix=fix))


def _check_path(path: PathLike) -> Path:
    path = Path(path)
    if not path.is_file():
        raise DataError(problem(f"text file {str(path)!r}", expected="an existing file",
                                got="no such file" if not path.exists() else "a directory",
                                fix=f"check the path (the working directory is {os.getcwd()!r})"))
    return path


def read_text(path: PathLike, encoding: str = "utf-8") -> str:
    """The whole file decoded with ``encoding`` (line endings kept as they are)."""
    path = _check_path(path)
    data = path.read_bytes()
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as err:
        raise _decode_error(path, err, encoding, data) from None
    except LookupError:
        raise DataError(problem("read_text: encoding", expected="a codec Python knows "
                                "(e.g. 'utf-8', 'latin-1')", got=repr(encoding))) from None


def iter_lines(path: PathLike, encoding: str = "utf-8") -> Iterator[tuple[int, str]]:
    """``(line number from 1, line without its newline)`` for each line, read lazily (for
    large files such as word vectors); a bad byte fails with its file offset and line."""
    path = _check_path(path)
    offset = 0
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            try:
                line = raw.decode(encoding)
            except UnicodeDecodeError as err:
                error = _decode_error(path, err, encoding, raw, base=offset)
                raise DataError(f"{error} [line {number}]") from None
            offset += len(raw)
            yield number, line.rstrip("\r\n")


def read_text_table(path: PathLike, encoding: str = "utf-8", **read_csv) -> pd.DataFrame:
    """A CSV (or TSV with ``sep="\\t"``) of texts as a DataFrame, decoded like
    :func:`read_text`; ``read_csv`` goes to :func:`pandas.read_csv`."""
    text = read_text(path, encoding)
    try:
        return pd.read_csv(io.StringIO(text), **read_csv)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataError(problem(f"text table {str(path)!r}", expected="a CSV with a header row",
                                got=f"unparseable content ({err})",
                                fix="check the separator (sep=...) and the quoting")) from None
