"""Reading and checking a speech manifest: a CSV with a row per audio file."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from rnnkit.errors import DataError, problem, unknown_name

PathLike = str | os.PathLike
SPLITS = ("train", "dev", "test")
MANIFEST_COLUMNS = ("path", "transcript", "kind", "voice", "speed", "pitch", "snr", "noise", "split", "utt",
                    "seconds")
REQUIRED_COLUMNS = ("path", "transcript")


def read_manifest(path: PathLike) -> pd.DataFrame:
    """Read and check a manifest CSV (or a folder holding ``manifest.csv``).

    Columns ``path`` and ``transcript`` are required; the others of :data:`MANIFEST_COLUMNS`
    are optional (absent ones are added empty; ``split`` must be train/dev/test or empty);
    any other column is an error naming the nearest valid one. Every ``path`` is resolved relative to the
    manifest's folder, must exist, and is returned absolute. Transcripts are lower-cased
    strings (a missing one is ``""``).
    """
    path = Path(path)
    if path.is_dir():
        path = path / "manifest.csv"
    if not path.is_file():
        raise DataError(problem(f"manifest {str(path)!r}", expected="an existing CSV file", got="no such file",
                                fix="make one with `rnnkit datasets make-speech OUT` or check the path"))
    try:
        frame = pd.read_csv(path, dtype={"path": str, "transcript": str, "split": str, "voice": str,
                                         "noise": str, "utt": str, "kind": str}, keep_default_na=False,
                            na_values={"snr": [""], "speed": [""], "pitch": [""], "seconds": [""]})
    except pd.errors.EmptyDataError:
        raise DataError(problem(f"manifest {str(path)!r}", expected="a CSV with a header and rows",
                                got="an empty file")) from None
    for column in frame.columns:
        if column not in MANIFEST_COLUMNS:
            raise DataError(problem(f"manifest {str(path)!r}: column {column!r}", expected="one of "
                                    + ", ".join(MANIFEST_COLUMNS), got=repr(column),
                                    fix=unknown_name("manifest column", str(column), MANIFEST_COLUMNS)))
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(problem(f"manifest {str(path)!r}", expected="columns " + ", ".join(REQUIRED_COLUMNS),
                                got=f"no column {', '.join(map(repr, missing))} (columns: {list(frame.columns)})",
                                fix="add the missing column(s) to the CSV header"))
    if frame.empty:
        raise DataError(problem(f"manifest {str(path)!r}", expected="at least one row", got="a header only",
                                fix="list one WAV file per row"))
    bad_splits = sorted(set(frame["split"]) - {*SPLITS, ""}) if "split" in frame.columns else []
    if bad_splits:
        raise DataError(problem(f"manifest {str(path)!r}: column 'split'", expected=" / ".join(SPLITS) + " or empty",
                                got=", ".join(map(repr, bad_splits[:5]))))
    base = path.resolve().parent
    absolute = [str(p if p.is_absolute() else base / p) for p in map(Path, frame["path"])]
    absent = [(i, p) for i, p in enumerate(absolute) if not os.path.isfile(p)]
    if absent:
        first = ", ".join(f"row {i + 2}: {p!r}" for i, p in absent[:3])
        raise DataError(problem(f"manifest {str(path)!r}", expected="every path to be an existing audio file "
                                "(relative paths are relative to the manifest's folder)",
                                got=f"{len(absent)} missing, e.g. {first}", fix="regenerate the corpus or fix "
                                "the paths"))
    frame["path"] = absolute
    frame["transcript"] = frame["transcript"].str.strip().str.lower()
    for column in MANIFEST_COLUMNS:
        if column not in frame.columns:
            frame[column] = np.nan if column in ("speed", "pitch", "snr", "seconds") else ""
    return frame[list(MANIFEST_COLUMNS)]
