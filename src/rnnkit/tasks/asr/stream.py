"""``SpeechRecognizer.stream()``: audio in chunks, a partial transcript after each.

>>> s = recognizer.stream()
>>> for chunk in chunks:                 # float32 mono at the model's rate (any length)
...     print(s.feed(chunk))             # the transcript of everything heard so far
>>> s.finish()                           # the final transcript; the stream is then reset

How: the stream keeps the audio received so far and, once at least ``every_seconds`` of
new audio has arrived, re-runs features, network and decoder on all of it (greedy for the
partials, the recognizer's beam and constraint for :meth:`finish`). Re-running costs
``O(n)`` per update rather than ``O(chunk)``, but it is exact: ``finish()`` returns what
``transcribe`` gives for the whole recording, and the per-utterance feature
normalisation always sees all the audio heard so far. Only unidirectional models stream
(``bidirectional=False``): a bidirectional model's reading of a word depends on audio not
yet heard, so its partial transcripts would keep changing; it raises a ConfigError.
A stream holds at most the recognizer's ``max_seconds`` of audio.

Raw audio bytes (from a socket, a microphone, a server request) become a chunk with
:meth:`SpeechStream.read_bytes`, by the stream's ``encoding``: ``"pcm16"`` (little-endian
signed 16-bit mono samples at the model's rate), ``"float32"`` (little-endian float32 mono
samples in ``[-1, 1]`` at that rate) or ``"wav"`` (each chunk a whole WAV file: any rate
and channels, resampled).
"""

from __future__ import annotations

import numpy as np

from rnnkit.errors import ConfigError, DataError, problem, unknown_name

ENCODINGS = ("pcm16", "float32", "wav")


class SpeechStream:
    """State of one stream; make one with ``SpeechRecognizer.stream()``.

    Attributes: ``recognizer`` (the fitted SpeechRecognizer it decodes with), ``encoding``
    (how :meth:`read_bytes` reads raw chunks), ``rate`` (samples per second), ``samples``
    (fed so far in this utterance) and ``partial`` (the latest partial transcript).
    """

    def __init__(self, recognizer, *, beam: int | None = None, constrain=True,
                 every_seconds: float = 0.2, encoding: str = "pcm16") -> None:
        recognizer.check_fitted()
        if encoding not in ENCODINGS:
            raise ConfigError(unknown_name("SpeechRecognizer.stream encoding", str(encoding), ENCODINGS))
        if recognizer.model_.bidirectional:
            raise ConfigError(problem("SpeechRecognizer.stream", expected="a unidirectional model",
                                      got="bidirectional=True (it needs the whole utterance)",
                                      fix="train with SpeechRecognizer(bidirectional=False) to stream, "
                                      "or call transcribe() on the whole recording"))
        self.recognizer, self.beam, self.constrain, self.encoding = recognizer, beam, constrain, encoding
        self.rate = recognizer.features_.sample_rate
        self.every = max(1, int(every_seconds * self.rate))
        self.reset()

    def reset(self) -> None:
        self._chunks: list[np.ndarray] = []
        self.samples, self._decoded_at, self.partial = 0, 0, ""

    @property
    def seconds(self) -> float:
        """Audio fed so far in this utterance, in seconds."""
        return self.samples / self.rate

    def read_bytes(self, data: bytes, where: str = "SpeechStream.read_bytes") -> np.ndarray:
        """The samples ``(n,)`` of one raw chunk in the stream's ``encoding`` (int16 for
        ``"pcm16"``, float32 otherwise), ready for :meth:`feed`; reading changes no state.

        Raises:
            DataError: a partial sample, non-finite floats, or a bad WAV file.
        """
        if self.encoding == "wav":
            from rnnkit.data.audio import decode_wav_bytes

            return decode_wav_bytes(data, sample_rate=self.rate, max_seconds=self.recognizer.config.max_seconds,
                                    name=f"{where} audio")
        width = 2 if self.encoding == "pcm16" else 4
        if len(data) % width:
            raise DataError(problem(f"{where}: {self.encoding} audio", expected=f"a multiple of {width} bytes",
                                    got=f"{len(data)} bytes", fix="send whole samples"))
        chunk = np.frombuffer(data, "<i2" if width == 2 else "<f4")
        if width == 4 and not np.isfinite(chunk).all():
            raise DataError(problem(f"{where}: float32 audio", expected="finite samples", got="NaN or inf"))
        return chunk

    def feed(self, chunk) -> str:
        """Append ``chunk`` (1-D float samples in ``[-1, 1]``, or int16 PCM); the partial transcript."""
        wave = _as_chunk(chunk)
        limit = self.recognizer.config.max_seconds * self.rate
        if self.samples + len(wave) > limit:
            raise DataError(problem("SpeechStream.feed", expected=f"at most max_seconds="
                                    f"{self.recognizer.config.max_seconds:g} s of audio per stream",
                                    got=f"{(self.samples + len(wave)) / self.rate:.1f} s",
                                    fix="call finish() to end the utterance and start a new one"))
        if len(wave):
            self._chunks.append(wave)
            self.samples += len(wave)
        if self.samples - self._decoded_at >= self.every:
            self.partial = self.recognizer.transcribe_waves([self._audio()], beam=1, constrain=False)[0]
            self._decoded_at = self.samples
        return self.partial

    def finish(self) -> str:
        """The final transcript of all the audio fed; the stream starts over afterwards."""
        text = ""
        if self.samples:
            text = self.recognizer.transcribe_waves([self._audio()], beam=self.beam, constrain=self.constrain)[0]
        self.reset()
        return text

    def _audio(self) -> np.ndarray:
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks)]
        return self._chunks[0]


def _as_chunk(chunk) -> np.ndarray:
    wave = np.asarray(chunk)
    if wave.ndim != 1:
        raise DataError(problem("SpeechStream.feed: chunk", expected="1-D mono samples",
                                got=f"shape {wave.shape}"))
    if wave.dtype == np.int16:
        return (wave.astype(np.float32) / 32768.0)
    if not np.issubdtype(wave.dtype, np.floating):
        raise DataError(problem("SpeechStream.feed: chunk", expected="float32 samples in [-1, 1] or int16 PCM",
                                got=f"dtype {wave.dtype}"))
    wave = wave.astype(np.float32, copy=False)
    if not np.isfinite(wave).all():
        raise DataError(problem("SpeechStream.feed: chunk", expected="finite samples", got="NaN or inf"))
    return np.clip(wave, -1.0, 1.0)
