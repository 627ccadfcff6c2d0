"""Speech recognition (task ``asr``): ``SpeechRecognizer``, WAV audio -> text with a
convolutional + recurrent network trained with CTC, greedy and prefix beam-search
decoding (optionally constrained to a vocabulary or grammar), WER/CER per voice, and
streaming for unidirectional models."""

from rnnkit.tasks.asr.config import SpeechRecognizerConfig
from rnnkit.tasks.asr.decoding import AnyOf, Pattern, Phrases, Vocabulary
from rnnkit.tasks.asr.estimator import SpeechRecognizer
from rnnkit.tasks.asr.report import SpeechReport
from rnnkit.tasks.asr.stream import SpeechStream

__all__ = ["SpeechRecognizer", "SpeechRecognizerConfig", "SpeechReport", "SpeechStream",
           "Vocabulary", "Phrases", "Pattern", "AnyOf"]
