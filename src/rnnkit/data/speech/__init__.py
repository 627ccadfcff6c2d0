"""A synthetic spoken-digits-and-commands corpus, made offline with espeak-ng, flite and sox.

Each utterance is either a digit string of 1-7 digits read as words (``"three one four
one"``, from :data:`DIGIT_WORDS`) or one of the :data:`COMMANDS` (``"turn on the light"``).
It is spoken by one *voice*: an espeak-ng accent with a voice variant
(``"espeak:en-us+f3"``, rate ``speed`` words/min and ``pitch`` 0-99) or a flite voice
(``"flite:slt"``, tempo factor ``speed`` and a ``pitch`` shift in cents, both applied by
sox). sox converts it to mono 16-bit at ``sample_rate``, trims leading/trailing silence
(below -60 dBFS), normalises the peak to -6 dBFS and pads 0.05-0.3 s of silence at each end.

Every clean utterance ``s`` is written once per entry of ``snrs``: clean for ``None``, else
mixed with white or pink (1/f power) noise ``n`` scaled so that

    SNR = 10 log10(mean(s^2) / mean(n^2))   (dB, means over the whole file)

equals the requested value; a mix that would clip is scaled down as a whole (the SNR is
kept). All copies of one utterance share its ``utt`` id, so the noise can be recovered as
``noisy - clean``. Text, voice, speed, pitch, padding, noise kind and noise samples all come
from ``numpy.random.default_rng(seed)``: the same seed gives the same manifest and audio.

Splits hold out whole voices: no voice is in two of train/dev/test, so the test error is
the error on speakers never heard in training. Voices are drawn so that the splits get
about ``split_fractions`` = 70 % / 10 % / 20 % of the utterances.

>>> manifest = make_speech_corpus("speech", n_digits=1200, n_commands=400)
>>> manifest = read_manifest("speech/manifest.csv")     # absolute paths, checked

The package: :mod:`~rnnkit.data.speech.corpus` (what is said, by whom, in which split),
:mod:`~rnnkit.data.speech.synthesis` (voices, the synthesizer and sox calls, noise) and
:mod:`~rnnkit.data.speech.manifest` (reading and checking a manifest CSV).
"""

from rnnkit.data.speech.corpus import (
                                       COMMANDS,
                                       DEFAULT_DEV_VOICES,
                                       DEFAULT_TEST_VOICES,
                                       DEFAULT_VOICES,
                                       DIGIT_WORDS,
                                       SPLITS,
                                       corpus_vocabulary,
                                       make_speech_corpus,
)
from rnnkit.data.speech.manifest import MANIFEST_COLUMNS, REQUIRED_COLUMNS, read_manifest
from rnnkit.data.speech.synthesis import (
                                       ESPEAK_ACCENTS,
                                       ESPEAK_VARIANTS,
                                       FLITE_VOICES,
                                       TOOLS_FIX,
                                       MissingToolError,
                                       SynthesisError,
                                       Utterance,
                                       add_noise,
)

__all__ = ["COMMANDS", "DEFAULT_DEV_VOICES", "DEFAULT_TEST_VOICES", "DEFAULT_VOICES", "DIGIT_WORDS",
           "ESPEAK_ACCENTS", "ESPEAK_VARIANTS", "FLITE_VOICES", "MANIFEST_COLUMNS", "REQUIRED_COLUMNS",
           "SPLITS", "TOOLS_FIX", "MissingToolError", "SynthesisError", "Utterance", "add_noise",
           "corpus_vocabulary", "make_speech_corpus", "read_manifest"]
