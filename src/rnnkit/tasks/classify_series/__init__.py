"""Series classification (task ``classify-series``): ``SequenceClassifier`` for whole
multichannel series of variable length, with nearest-centroid and 1-NN baselines."""

from rnnkit.tasks.classify_series.config import SequenceClassifierConfig
from rnnkit.tasks.classify_series.estimator import SequenceClassifier
from rnnkit.tasks.common.report import ClassificationReport

__all__ = ["SequenceClassifier", "SequenceClassifierConfig", "ClassificationReport"]
