"""Reading WAV audio into one float32 mono wave at a fixed sample rate.

Any WAV that ``libsndfile`` reads is accepted: 8/16/24/32-bit integer PCM and 32/64-bit
float, mono or multichannel, any sample rate. The result is ``x`` of shape ``(n,)``,
float32, values in ``[-1, 1]``:

* channels are averaged: ``x[t] = mean_c s[t, c]``;
* a rate ``r`` other than ``sample_rate`` is converted by polyphase resampling
  (:func:`scipy.signal.resample_poly`) with ``up / down = sample_rate / r`` reduced by their
  gcd, giving ``n = ceil(n_in * up / down)`` samples (the duration is kept);
* integer PCM is scaled by its full range (16-bit: ``/ 32768``); a float WAV that peaks
  above 1 is scaled down by its peak (with a warning), never clipped.

Unusable input raises :class:`~rnnkit.errors.DataError` naming the file and the problem:
a missing or empty file, something that is not a WAV (text, MP3, FLAC...), a corrupt
header, no samples, NaN/inf samples, or a recording longer than ``max_seconds``. A file
cut short (its header promises more samples than it holds) gives the samples present and
a :class:`TruncatedWavWarning`. Pure silence is valid and gives zeros.

>>> wave = read_wav("hello.wav")                    # (n,) float32 at 16 kHz
>>> wave = decode_wav_bytes(request_body, name="upload")
"""

from __future__ import annotations

import io
import math
import os
import struct
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np

from rnnkit.errors import DataError, problem

PathLike = str | os.PathLike

SAMPLE_RATE = 16000
"""The sample rate (Hz) every reader and feature extractor uses unless told otherwise."""

_WAV_FORMATS = ("WAV", "WAVEX", "RF64", "W64")
_MAGIC = ((b"ID3", "an MP3 file (ID3 tag)"), (b"\xff\xfb", "an MP3 file"), (b"\xff\xf3", "an MP3 file"),
          (b"\xff\xf2", "an MP3 file"), (b"fLaC", "a FLAC file"), (b"OggS", "an Ogg file"),
          (b"FORM", "an AIFF file"), (b".snd", "an AU file"), (b"PK\x03\x04", "a ZIP file"),
          (b"\x89PNG", "a PNG image"), (b"%PDF", "a PDF file"))
_FIX_CONVERT = "convert it, e.g. `sox input.mp3 -r 16000 -c 1 -b 16 output.wav` or `ffmpeg -i input output.wav`"


class TruncatedWavWarning(UserWarning):
    """A WAV file holds fewer samples than its header says (it was cut short)."""


def read_wav(path: PathLike, *, sample_rate: int = SAMPLE_RATE, max_seconds: float = 120.0) -> np.ndarray:
    """The audio in WAV file ``path`` as float32 mono ``(n,)`` at ``sample_rate`` Hz, in ``[-1, 1]``.

    Raises :class:`~rnnkit.errors.DataError` (naming the file) for a missing, empty,
    non-WAV, corrupt, sample-less or non-finite file, or one longer than ``max_seconds``.
    """
    path = Path(path)
    name = f"WAV file {str(path)!r}"
    if not path.is_file():
        raise DataError(problem(name, expected="an existing file",
                                got="no such file" if not path.exists() else "a directory",
                                fix=f"check the path (the working directory is {os.getcwd()!r})"))
    with open(path, "rb") as f:
        return _decode(f, path.stat().st_size, name, sample_rate=sample_rate, max_seconds=max_seconds)


def decode_wav_bytes(data: bytes, *, sample_rate: int = SAMPLE_RATE, max_seconds: float = 120.0,
                     name: str = "uploaded audio") -> np.ndarray:
    """Like :func:`read_wav` for a WAV file's bytes held in memory (e.g. an HTTP body);
    ``name`` says where they came from in error messages."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DataError(problem(f"WAV data {name!r}", expected="bytes", got=type(data).__name__))
    data = bytes(data)
    return _decode(io.BytesIO(data), len(data), f"WAV data {name!r}",
                   sample_rate=sample_rate, max_seconds=max_seconds)


def _decode(f: BinaryIO, size: int, name: str, *, sample_rate: int, max_seconds: float) -> np.ndarray:
    """Shared body of :func:`read_wav` and :func:`decode_wav_bytes`; ``f`` is at offset 0."""
    import soundfile as sf

    if sample_rate <= 0:
        raise DataError(problem("read_wav: sample_rate", expected="a positive number of Hz", got=sample_rate))
    if size == 0:
        raise DataError(problem(name, expected="a WAV file", got="an empty file (0 bytes)",
                                fix="re-record or re-export the audio"))
    head = f.read(12)
    f.seek(0)
    _check_magic(head, name)
    _warn_if_truncated(f, size, name)
    f.seek(0)
    try:
        with sf.SoundFile(f) as snd:
            rate, frames, channels, fmt = snd.samplerate, snd.frames, snd.channels, snd.format
            subtype = snd.subtype
            if fmt not in _WAV_FORMATS:
                raise DataError(problem(name, expected="a WAV file", got=f"a {fmt} file", fix=_FIX_CONVERT))
            if frames <= 0:
                raise DataError(problem(name, expected="at least one audio sample",
                                        got="zero-length audio (a header with no samples)",
                                        fix="re-record or re-export the audio"))
            seconds = frames / rate
            if seconds > max_seconds:
                raise DataError(problem(name, expected=f"at most max_seconds={max_seconds:g} s of audio",
                                        got=f"{seconds:.1f} s", fix="split the recording into shorter "
                                        f"pieces, or pass a larger max_seconds (e.g. max_seconds={math.ceil(seconds)})"))
            samples = snd.read(dtype="float32", always_2d=True)  # (frames, channels)
    except DataError:
        raise
    except (RuntimeError, ValueError, TypeError, OSError, struct.error) as err:
        raise DataError(problem(name, expected="a readable WAV file", got=f"a corrupt or unsupported "
                                f"file ({getattr(err, 'error_string', None) or err})", fix="re-export the audio as 16-bit PCM WAV")) from None
    if len(samples) == 0:
        raise DataError(problem(name, expected="at least one audio sample", got="zero-length audio",
                                fix="re-record or re-export the audio"))
    wave = samples.mean(axis=1, dtype=np.float64) if channels > 1 else samples[:, 0].astype(np.float64)
    if not np.isfinite(wave).all():
        bad = int((~np.isfinite(samples)).any(axis=1).sum())
        raise DataError(problem(name, expected="finite samples", got=f"{bad} NaN or infinite sample(s) "
                                f"(first at {np.flatnonzero(~np.isfinite(wave))[0] / rate:.3f} s)",
                                fix="fix the program that wrote the file, or re-export it as 16-bit PCM"))
    peak = float(np.abs(wave).max())
    if peak > 1.0 and subtype in ("FLOAT", "DOUBLE"):
        warnings.warn(f"{name}: float samples peak at {peak:.3g} > 1; scaled down by 1/{peak:.3g}",
                      RuntimeWarning, stacklevel=3)
        wave = wave / peak
    if rate != sample_rate:
        wave = resample(wave, rate, sample_rate)
    return np.clip(wave, -1.0, 1.0).astype(np.float32)


def resample(wave: np.ndarray, rate: int, sample_rate: int) -> np.ndarray:
    """``(n,)`` at ``rate`` Hz -> ``(ceil(n * up / down),)`` at ``sample_rate`` Hz, where
    ``up / down = sample_rate / rate`` in lowest terms (polyphase FIR, Kaiser window)."""
    from scipy.signal import resample_poly

    g = math.gcd(int(rate), int(sample_rate))
    return resample_poly(wave, int(sample_rate) // g, int(rate) // g)


def _check_magic(head: bytes, name: str) -> None:
    """Reject files that are plainly not WAV (by their first bytes) with what they look like."""
    if len(head) >= 12 and head[:4] in (b"RIFF", b"RIFX", b"RF64") and head[8:12] == b"WAVE":
        return
    if head[:4] == b"riff":  # Sony Wave64 starts with a GUID whose first 4 bytes are 'riff'
        return
    got = next((kind for magic, kind in _MAGIC if head.startswith(magic)), None)
    if got is None and len(head) < 12 and (head[:4] == b"RIFF" or b"RIFF".startswith(head)):
        got = f"a {len(head)}-byte file, too short for a WAV header"
    if got is None:
        try:
            text = head.decode("utf-8")
            if all(c.isprintable() or c.isspace() for c in text):
                got = f"a text file (it starts with {text!r})"
        except UnicodeDecodeError:
            pass
    if got is None:
        got = f"a file starting with the bytes {head[:12]!r}" if len(head) >= 12 \
            else f"a {len(head)}-byte file, too short for a WAV header"
    raise DataError(problem(name, expected="a WAV file (it starts with 'RIFF....WAVE')", got=got, fix=_FIX_CONVERT))


def _warn_if_truncated(f: BinaryIO, size: int, name: str) -> None:
    """Warn when the RIFF ``data`` chunk declares more bytes than the file holds after it.

    Walks the chunks ``id (4 bytes) | size (uint32 LE) | payload (size, padded to even)``
    from offset 12; streaming writers' placeholder sizes (0 or 0xFFFFFFFF) and RF64 are
    left to libsndfile.
    """
    head = f.read(12)
    if head[:4] != b"RIFF":
        return
    offset = 12
    while offset + 8 <= size:
        f.seek(offset)
        chunk = f.read(8)
        if len(chunk) < 8:
            return
        chunk_id, chunk_size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if chunk_id == b"data":
            present = size - offset - 8
            if chunk_size not in (0, 0xFFFFFFFF) and chunk_size > present:
                warnings.warn(f"{name} is truncated: its header promises {chunk_size} bytes of samples "
                              f"but only {present} are present; reading those (re-export the file to "
                              "get all of it)", TruncatedWavWarning, stacklevel=4)
            return
        offset += 8 + chunk_size + (chunk_size & 1)
