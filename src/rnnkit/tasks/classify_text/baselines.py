"""The text-classification baseline: TF-IDF features and logistic regression (scikit-learn).

Features: word unigrams and bigrams (scikit-learn's token pattern ``(?u)\\b\\w\\w+\\b``,
lowercased) weighted by sublinear TF-IDF,
``x_{d,t} = (1 + log tf_{d,t}) * (log((1 + N) / (1 + df_t)) + 1)``, each row L2-normalised.
Model: L2-regularised logistic regression (``C = 1``, lbfgs), one-vs-rest for multi-label
data, with the same ``class_weight`` as the recurrent model. It is fitted on the very
texts the recurrent model was trained on (its validation share included).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

NAME = "tfidf_logreg"


class TfidfLogReg:
    """``fit(texts, targets)`` with codes ``(N,)`` or 0/1 ``(N, K)``; ``predict_proba(texts)``
    ``(N, K)``."""

    def __init__(self, class_weight=None) -> None:
        self.class_weight = class_weight  # None, "balanced" or {code: weight}

    def fit(self, texts: Sequence[str], targets: np.ndarray) -> "TfidfLogReg":
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.multiclass import OneVsRestClassifier

        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True)
        X = self.vectorizer.fit_transform(texts)  # (N, F) sparse
        self.multilabel = targets.ndim == 2
        if self.multilabel:
            cw = "balanced" if self.class_weight == "balanced" else None
            model = OneVsRestClassifier(LogisticRegression(max_iter=2000, class_weight=cw))
        else:
            model = LogisticRegression(max_iter=2000, class_weight=self.class_weight)
        self.model = model.fit(X, targets)
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        proba = self.model.predict_proba(self.vectorizer.transform(texts))  # (N, K')
        if self.multilabel:
            return proba
        out = np.zeros((len(texts), int(self.model.classes_.max()) + 1))
        out[:, self.model.classes_] = proba  # classes absent from training keep 0
        return out
