"""What the recognizer reads: manifests of (audio file, transcript) and audio to transcribe.

A manifest is a CSV (or a folder holding ``manifest.csv``, or a DataFrame) with at least
the columns ``path`` and ``transcript``; a CSV's relative paths are relative to its
folder, a DataFrame's to the working directory. The generated corpus
(:func:`rnnkit.data.speech.make_speech_corpus`) adds ``kind``, ``voice``, ``snr`` and
``split``; :meth:`SpeechRecognizer.evaluate` breaks its errors down by them.

Audio to transcribe is a WAV path, the bytes of a WAV file, or a wave (a 1-D float array
at the model's sample rate), or a list of those. Quiet audio (peak below
:data:`SILENCE_PEAK`, about -60 dBFS) or audio shorter than :data:`MIN_SECONDS` is
transcribed as ``""`` without running the network.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from rnnkit.errors import DataError, problem

REQUIRED = ("path", "transcript")
SILENCE_PEAK = 1e-3  # |x| below this everywhere: silence -> ""
MIN_SECONDS = 0.05  # shorter audio -> ""


def as_manifest(data, where: str) -> pd.DataFrame:
    """A manifest path / folder / DataFrame -> a DataFrame with absolute ``path`` strings."""
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        if path.is_dir():
            path = path / "manifest.csv"
        if not path.is_file():
            raise DataError(problem(f"{where}: manifest", expected="a CSV file with columns path, transcript "
                                    "(or a folder holding manifest.csv)", got=f"{str(path)!r}: no such file",
                                    fix="make one with rnnkit.data.speech.make_speech_corpus(folder)"))
        try:
            frame = pd.read_csv(path, dtype={"transcript": str}, keep_default_na=False,
                                na_values={"snr": [""]})
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
            raise DataError(problem(f"{where}: manifest {str(path)!r}", expected="a readable CSV",
                                    got=f"{type(err).__name__}: {err}")) from None
        root = path.parent
    elif isinstance(data, pd.DataFrame):
        frame, root = data.copy(), Path.cwd()
    else:
        raise DataError(problem(f"{where}: data", expected="a manifest CSV path, a corpus folder or a "
                                "DataFrame with columns path, transcript", got=type(data).__name__))
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise DataError(problem(f"{where}: manifest columns", expected="path and transcript",
                                got=f"{list(frame.columns)} (missing {missing})"))
    if frame.empty:
        raise DataError(problem(f"{where}: manifest", expected="at least one utterance", got="no rows"))
    frame = frame.reset_index(drop=True)
    frame["path"] = [str(p if Path(p).is_absolute() else root / p) for p in frame["path"].astype(str)]
    frame["transcript"] = frame["transcript"].fillna("").astype(str)
    return frame


def split_rows(frame: pd.DataFrame, split: str | None) -> pd.DataFrame:
    """The rows of ``split`` when the manifest has a ``split`` column (and ``split`` is set)."""
    if split is None or "split" not in frame.columns:
        return frame
    rows = frame[frame["split"].astype(str) == split].reset_index(drop=True)
    if rows.empty:
        found = sorted(frame["split"].astype(str).unique())
        raise DataError(problem(f"manifest split {split!r}", expected="at least one row",
                                got=f"none (splits present: {found})", fix="pass split=None to use every row"))
    return rows


def is_quiet(wave: np.ndarray, sample_rate: int) -> bool:
    """Silence or too short to hold a word: transcribed as ``""``."""
    return len(wave) < MIN_SECONDS * sample_rate or float(np.abs(wave).max(initial=0.0)) < SILENCE_PEAK


def as_audio_items(audio, where: str) -> tuple[list, bool]:
    """``(items, single)``: a list of paths / bytes / waves, and whether one item was given."""
    if isinstance(audio, (str, os.PathLike, bytes, bytearray)):
        return [audio], True
    if isinstance(audio, np.ndarray):
        if audio.ndim == 1:
            return [audio], True
        raise DataError(problem(f"{where}: wave", expected="a 1-D mono wave (n_samples,) at the model's "
                                "sample rate", got=f"an array of shape {audio.shape}",
                                fix="read files with rnnkit.data.audio.read_wav, which mixes to mono"))
    if isinstance(audio, (list, tuple)):
        return list(audio), False
    raise DataError(problem(f"{where}: audio", expected="a WAV path, WAV bytes, a 1-D wave or a list of "
                            "them", got=type(audio).__name__))


def read_item(item, *, sample_rate: int, max_seconds: float, index: int, where: str) -> np.ndarray:
    """One audio item -> a float32 mono wave at ``sample_rate``."""
    from rnnkit.data.audio import decode_wav_bytes, read_wav

    if isinstance(item, (str, os.PathLike)):
        return read_wav(item, sample_rate=sample_rate, max_seconds=max_seconds)
    if isinstance(item, (bytes, bytearray, memoryview)):
        return decode_wav_bytes(bytes(item), sample_rate=sample_rate, max_seconds=max_seconds,
                                name=f"audio {index}")
    wave = np.asarray(item, dtype=np.float32) if not isinstance(item, np.ndarray) else item
    if wave.ndim != 1:
        raise DataError(problem(f"{where}: audio {index}", expected="a 1-D mono wave",
                                got=f"shape {wave.shape}", fix="average the channels"))
    if not np.issubdtype(wave.dtype, np.floating):
        raise DataError(problem(f"{where}: audio {index}", expected="float samples in [-1, 1]",
                                got=f"dtype {wave.dtype}", fix="int16 PCM: divide by 32768"))
    if not np.isfinite(wave).all():
        raise DataError(problem(f"{where}: audio {index}", expected="finite samples", got="NaN or inf"))
    if len(wave) > max_seconds * sample_rate:
        raise DataError(problem(f"{where}: audio {index}", expected=f"at most {max_seconds:g} s",
                                got=f"{len(wave) / sample_rate:.1f} s", fix="split it into shorter pieces"))
    return wave.astype(np.float32, copy=False)
