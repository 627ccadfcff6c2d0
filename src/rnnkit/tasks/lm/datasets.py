"""Text corpora for language models: the Debian ``fortunes`` collection, and record files.

``fortunes()`` reads every fortune file in ``/usr/share/games/fortunes`` (latin-1 text,
records separated by a line holding ``%``; the ``.dat`` indexes, ``.u8`` links and
subfolders such as ``off/`` are skipped): about 15,000 records, 2.6 M characters. The
split is by record: a seeded shuffle, then the first ``1 - test_fraction`` for training.
Install it with ``apt-get install fortunes`` (nothing is downloaded at run time).

In the data-set registry as ``fortunes``: ``rnnkit datasets export fortunes`` writes the
training records to ``fortunes.txt`` and the held-out ones to ``fortunes.test.txt``, records
separated by a blank line (blank lines inside a record become single newlines), the layout
``LanguageModel.fit(path)`` and ``rnnkit evaluate`` read.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from rnnkit.data.datasets import DatasetInfo, register
from rnnkit.data.text.reading import PathLike, read_text
from rnnkit.errors import DataError, problem

FORTUNES_DIR = "/usr/share/games/fortunes"
SPLITS = ("train", "test", "all")


def split_records(text: str, separator: str) -> list[str]:
    """The non-empty records of ``text`` cut at ``separator`` (each stripped of the newlines
    around it)."""
    return [r.strip("\n") for r in text.replace("\r\n", "\n").split(separator) if r.strip()]


def read_records(path: PathLike, separator: str = "\n\n", encoding: str = "utf-8") -> list[str]:
    """Records of a text file: cut at ``separator`` (default: blank lines). A file that is not
    valid ``encoding`` is a :class:`DataError` that names the byte and the fix."""
    records = split_records(read_text(path, encoding), separator)
    if not records:
        raise DataError(problem(f"text file {str(path)!r}", expected="some text", got="an empty "
                                "file (or only whitespace)", fix="check the path"))
    return records


def fortune_files(root: PathLike = FORTUNES_DIR) -> list[Path]:
    root = Path(root)
    if not root.is_dir():
        raise DataError(problem(f"fortunes folder {str(root)!r}", expected="the Debian fortunes "
                                "collection", got="no such folder",
                                fix="install it: sudo apt-get install fortunes"))
    return sorted(p for p in root.iterdir() if p.is_file() and not p.is_symlink()
                  and p.suffix not in (".dat", ".u8"))


def split_indices(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(train, test)`` indices of ``n`` records: a seeded shuffle, the last
    ``round(n * test_fraction)`` for testing (each part in the original order)."""
    perm = np.random.default_rng(seed).permutation(n)
    n_test = int(round(n * test_fraction))
    return np.sort(perm[: n - n_test]), np.sort(perm[n - n_test:])


def fortunes(split: str = "train", test_fraction: float = 0.1, seed: int = 0,
             root: PathLike = FORTUNES_DIR) -> list[str]:
    """Fortune records of ``split`` ("train", "test" or "all"), split 90/10 by a seeded shuffle."""
    if split not in SPLITS:
        from rnnkit.errors import unknown_name

        raise DataError(unknown_name("fortunes split", split, SPLITS))
    records = []
    for path in fortune_files(root):
        records += split_records(read_text(path, "latin-1"), "\n%\n")
    records = [r for r in records if r.strip() and r.strip() != "%"]
    if split == "all":
        return records
    train, test = split_indices(len(records), test_fraction, seed)
    return [records[i] for i in (train if split == "train" else test)]


def fortunes_frame() -> pd.DataFrame:
    """The fortune records as a table: ``text, split``."""
    return pd.concat([pd.DataFrame({"text": fortunes(split), "split": split}) for split in ("train", "test")],
                     ignore_index=True)


def write_fortunes(path: Path) -> str:
    """The training records to ``path``, the held-out ones beside it (``NAME.test.txt``), a
    blank line between records."""
    path = Path(path)
    test_path = path.with_name(f"{path.stem}.test{path.suffix or '.txt'}")
    counts = []
    for split, target in (("train", path), ("test", test_path)):
        records = ["\n".join(line for line in r.splitlines() if line.strip()) for r in fortunes(split)]
        target.write_text("\n\n".join(records) + "\n", encoding="utf-8")
        counts.append(len(records))
    return (f"wrote {counts[0]} training records to {path} and {counts[1]} held-out records to "
            f"{test_path} (a blank line between records)")


register(DatasetInfo(
    "fortunes", "fortunes (apt)", "15,217 Debian fortunes (2.5 M characters) for language models; "
    "exported as NAME.txt (train) and NAME.test.txt (10% held out), a blank line between records",
    fortunes_frame, targets=("text",), kind="lm", writer=write_fortunes, suffix=".txt"))


if __name__ == "__main__":  # pragma: no cover - a quick look at the corpus
    recs = fortunes("all")
    print(len(recs), sum(map(len, recs)), os.path.basename(FORTUNES_DIR))
