"""rnnkit: recurrent neural networks from sequence data to a trained, evaluated and
deployed model.

>>> import rnnkit
>>> layer = rnnkit.nn.LSTM(32, 128, num_layers=2, batch_first=True, layer_norm=True)
"""

from rnnkit import nn
from rnnkit._version import __version__
from rnnkit.tasks.anomaly import AnomalyDetector
from rnnkit.tasks.asr import SpeechRecognizer
from rnnkit.tasks.chat import ChatModel
from rnnkit.tasks.classify_series import SequenceClassifier
from rnnkit.tasks.classify_text import TextClassifier
from rnnkit.tasks.forecast import Forecaster
from rnnkit.tasks.lm import LanguageModel
from rnnkit.tasks.registry import load
from rnnkit.tasks.seq2seq import Seq2Seq

__all__ = ["__version__", "nn", "load", "Forecaster", "SequenceClassifier", "AnomalyDetector",
           "TextClassifier", "LanguageModel", "Seq2Seq", "SpeechRecognizer",
           "ChatModel"]
