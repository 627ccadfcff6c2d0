"""Text classification (task ``classify-text``): ``TextClassifier``, a (bi)LSTM/GRU with
attention pooling for single- or multi-label texts, with a TF-IDF + logistic-regression
baseline."""

from rnnkit.tasks.classify_text import datasets  # noqa: F401  (registers the "fine-food" data set)
from rnnkit.tasks.classify_text.config import TextClassifierConfig
from rnnkit.tasks.classify_text.estimator import TextClassifier

__all__ = ["TextClassifier", "TextClassifierConfig"]
