"""Audio for speech recognition: reading WAVs, features, augmentation.

* :mod:`~rnnkit.data.audio.wav`: :func:`read_wav` / :func:`decode_wav_bytes`, any WAV ->
  float32 mono ``(n,)`` at :data:`SAMPLE_RATE` (16 kHz), with clear errors;
* :mod:`~rnnkit.data.audio.features`: :class:`AudioFeatures`, wave -> log-mel or MFCC
  ``(frames, n_features)``, normalised per utterance;
* :mod:`~rnnkit.data.audio.augment`: :func:`spec_augment`, random frequency/time masks.

The synthetic spoken-digits-and-commands corpus is in :mod:`rnnkit.data.speech`.
"""

from rnnkit.data.audio.augment import spec_augment
from rnnkit.data.audio.features import AudioFeatures
from rnnkit.data.audio.wav import SAMPLE_RATE, TruncatedWavWarning, decode_wav_bytes, read_wav

__all__ = ["read_wav", "decode_wav_bytes", "AudioFeatures", "spec_augment", "SAMPLE_RATE", "TruncatedWavWarning"]
