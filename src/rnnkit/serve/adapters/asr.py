"""Serving a :class:`~rnnkit.SpeechRecognizer`: WAV files in, transcripts out, and streaming
sessions that take audio in chunks and answer partial transcripts.

``predict`` instance: ``{"audio": "<base64 of a WAV file>", "beam": null, "vocabulary": true}``
(any WAV: any sample rate, mono or stereo, integer or float samples); answer
``{"transcript": "three one four", "seconds": 1.6}``. A bad file (empty, not a WAV, cut
short of its header, too long) is a 422 naming the problem; silence gives ``""``.

Sessions (unidirectional models only; a bidirectional model lists ``"sessions": false``
and has no session routes). Open with ``{"encoding": "pcm16", "beam": null, "vocabulary":
true}``; each step sends ``{"audio": "<base64>", "final": false}`` where ``audio`` is, by
``encoding``:

* ``"pcm16"``: raw little-endian signed 16-bit mono samples at the model's sample rate;
* ``"float32"``: raw little-endian float32 mono samples in ``[-1, 1]`` at that rate;
* ``"wav"``: each chunk a complete WAV file (any rate and channels; resampled).

and gets ``{"partial": ..., "seconds": ..., "final": false, "transcript": null}``: the
transcript of everything heard so far (greedy, refreshed every 0.2 s of new audio). A
step with ``"final": true`` (audio optional) ends the utterance: ``transcript`` is the
final text (beam search, vocabulary), equal to ``predict`` on the whole recording, and
the session starts a new utterance. A step may carry at most the server's ``max_steps``
feature frames (10 ms each).
"""

from __future__ import annotations

import base64
import binascii
from typing import Literal, Optional

import numpy as np
from pydantic import BaseModel, Field

from rnnkit.errors import DataError, problem
from rnnkit.serve.adapters.base import Prepared, Strict, TaskAdapter, per_item, register_adapter


class AudioInstance(Strict):
    audio: str = Field(min_length=1, description="A WAV file, base64-encoded.")
    beam: Optional[int] = Field(None, ge=1, le=64, description="Prefix beam width; 1 is greedy; None: the model's.")
    vocabulary: bool = Field(True, description="Only words seen in training (True) or any letters.")


class Transcript(BaseModel):
    transcript: str
    seconds: float = Field(description="Duration of the audio read.")


class SpeechSessionOpen(Strict):
    encoding: Literal["pcm16", "float32", "wav"] = Field("pcm16", description="How step audio is encoded.")
    beam: Optional[int] = Field(None, ge=1, le=64)
    vocabulary: bool = True


class SpeechStep(Strict):
    audio: str = Field("", description="The next chunk, base64 (see the session's encoding).")
    final: bool = Field(False, description="End the utterance: answer the final transcript.")


class PartialTranscript(BaseModel):
    partial: str = Field(description="Transcript of the audio heard so far in this utterance.")
    seconds: float = Field(description="Audio heard so far in this utterance.")
    final: bool
    transcript: Optional[str] = Field(None, description="The final transcript (final steps only).")


def _bytes(text: str, where: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as err:
        raise DataError(problem(f"{where}: audio", expected="base64 text", got=f"invalid base64 ({err})")) from None


@register_adapter("asr")
class SpeechRecognizerAdapter(TaskAdapter):
    Instance, Prediction = AudioInstance, Transcript
    SessionOpen, Step, StepOutput = SpeechSessionOpen, SpeechStep, PartialTranscript

    def __init__(self, estimator, name: str) -> None:
        super().__init__(estimator, name)
        self.rate = estimator.features_.sample_rate
        self.hop = estimator.features_.hop_length

    def describe(self) -> dict:
        asr = self.estimator
        return {**super().describe(), "sessions": not asr.model_.bidirectional, "sample_rate": self.rate,
                "vocabulary": list(asr.vocabulary_), "metrics": getattr(asr, "metrics_", {})}

    def example_instance(self) -> dict:
        return {"audio": base64.b64encode(_silent_wav(self.rate)).decode(), "beam": None, "vocabulary": True}

    def example_step(self) -> dict:
        return {"audio": base64.b64encode(np.zeros(1600, "<i2").tobytes()).decode(), "final": False}

    # ---- stateless ----------------------------------------------------------------------
    def prepare(self, instance: AudioInstance) -> Prepared:
        from rnnkit.data.audio import decode_wav_bytes

        wave = decode_wav_bytes(_bytes(instance.audio, "instance"), sample_rate=self.rate,
                                max_seconds=self.estimator.config.max_seconds, name="instance audio")
        return Prepared((wave, instance.beam, instance.vocabulary), 1 + len(wave) // self.hop)

    def predict_batch(self, payloads: list) -> list:
        def one(payload):
            wave, beam, vocabulary = payload
            text = self.estimator.transcribe_waves([wave], beam=beam, constrain=vocabulary)[0]
            return Transcript(transcript=text, seconds=len(wave) / self.rate)

        return per_item(one, payloads)

    # ---- sessions -----------------------------------------------------------------------
    def open_session(self, body: SpeechSessionOpen | None):
        body = body or SpeechSessionOpen()
        return self.estimator.stream(beam=body.beam, constrain=body.vocabulary, encoding=body.encoding)

    def prepare_step(self, stream, step: SpeechStep) -> Prepared:
        data = _bytes(step.audio, "step") if step.audio else b""
        if not data:
            if not step.final:
                raise DataError(problem("step: audio", expected="some audio (or final: true)", got="none"))
            chunk = np.zeros(0, np.float32)
        else:
            chunk = stream.read_bytes(data, where="step")
        max_seconds = stream.recognizer.config.max_seconds
        if stream.samples + len(chunk) > max_seconds * self.rate:
            raise DataError(problem("step: audio", expected=f"at most {max_seconds:g} s per "
                                    "utterance", got=f"{(stream.samples + len(chunk)) / self.rate:.1f} s",
                                    fix="send final: true to end the utterance"))
        return Prepared((chunk, step.final), max(1, len(chunk) // self.hop))

    def step_batch(self, pairs: list) -> list:
        def one(pair):
            stream, (chunk, final) = pair
            partial = stream.feed(chunk) if len(chunk) else stream.partial
            seconds = stream.seconds
            if not final:
                return PartialTranscript(partial=partial, seconds=seconds, final=False)
            text = stream.finish()
            return PartialTranscript(partial=text, seconds=seconds, final=True, transcript=text)

        return per_item(one, pairs)


def _silent_wav(rate: int) -> bytes:
    import io

    import soundfile as sf

    buffer = io.BytesIO()
    sf.write(buffer, np.zeros(rate // 10, np.int16), rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()
