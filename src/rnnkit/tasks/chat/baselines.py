"""The retrieval baselines of Recall@k: TF-IDF cosine and a random order.

TF-IDF (Lowe et al. 2015's baseline): scikit-learn's ``TfidfVectorizer`` fitted on the
training texts (every turn of the contexts and every reply), word unigrams (its token
pattern ``(?u)\\b\\w\\w+\\b``, lowercased), smoothed idf, ``x_{d,t} = tf_{d,t} *
(log((1 + N) / (1 + df_t)) + 1)``, each row L2-normalised. A candidate reply's score is the
cosine between the vector of the context and message (all turns as one text) and the
reply's vector; no word in common scores 0 (ties are broken at random by the metric).
The fitted state (terms and idf weights) is plain JSON, so a model file keeps it without
a pickle.

Random: every candidate gets an independent uniform score (expected recall@k = k / n).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

TFIDF, RANDOM = "tfidf", "random"
NAMES = (TFIDF, RANDOM)


class TfidfRetrieval:
    """``fit(texts)``; ``scores(queries, replies, candidates)`` -> ``(M, n)`` cosines."""

    def fit(self, texts: Sequence[str]) -> "TfidfRetrieval":
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer = TfidfVectorizer(lowercase=True, dtype=np.float64).fit(texts)
        return self

    def matrix(self, texts: Sequence[str]):
        """The TF-IDF vectors of ``texts``: a sparse ``(N, F)`` matrix, rows unit or zero."""
        return self.vectorizer.transform(texts)

    def scores(self, queries: Sequence[str], replies: Sequence[str], candidates: np.ndarray) -> np.ndarray:
        """Cosine of query ``m`` with reply ``candidates[m, j]``: ``(M, n)``."""
        Q = self.vectorizer.transform(queries)  # (M, F) sparse, rows unit or zero
        R = self.vectorizer.transform(replies)  # (N, F)
        out = np.empty(candidates.shape, dtype=np.float64)
        for j in range(candidates.shape[1]):
            out[:, j] = np.asarray(Q.multiply(R[candidates[:, j]]).sum(1)).ravel()
        return out

    def to_dict(self) -> dict:
        terms = sorted(self.vectorizer.vocabulary_, key=self.vectorizer.vocabulary_.get)
        return {"terms": terms, "idf": [float(v) for v in self.vectorizer.idf_]}

    @classmethod
    def from_dict(cls, d: dict) -> "TfidfRetrieval":
        from sklearn.feature_extraction.text import TfidfVectorizer

        self = cls()
        self.vectorizer = TfidfVectorizer(lowercase=True, dtype=np.float64,
                                          vocabulary={t: i for i, t in enumerate(d["terms"])})
        self.vectorizer.idf_ = np.asarray(d["idf"], dtype=np.float64)
        return self


def random_scores(shape: tuple[int, int], seed: int) -> np.ndarray:
    """Independent uniform scores ``shape``."""
    return np.random.default_rng(seed).random(shape)
