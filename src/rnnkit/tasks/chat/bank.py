"""The reply bank: the real replies a chat model answers with, and the search over them.

Building (:func:`build_bank`): the candidate texts (by default the training replies) are
deduplicated under case- and space-normalisation (the first spelling kept) and kept when

* they hold ``bank_min_words`` to ``bank_max_words`` words (split on spaces);
* they hold a letter (not only digits, punctuation or symbols);
* at most a share ``bank_max_unknown`` of their tokens is out of the vocabulary;

then, with ``bank_size``, the most frequent ``bank_size`` (ties: first seen first).

Searching (:meth:`ReplyBank.search`): exact inner products of unit vectors, ``Q V^T``, in
chunks of :data:`CHUNK` bank rows, the running top ``k`` merged chunk by chunk (memory
``Q x CHUNK``, not ``Q x B``).

Choosing among the top replies (:mod:`~rnnkit.tasks.chat.selection`): maximal marginal
relevance and temperature sampling.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import torch

from rnnkit.data.text.encoder import TextEncoder
from rnnkit.data.text.vocab import UNK_ID
from rnnkit.errors import DataError, problem
from rnnkit.tasks.chat.config import ChatConfig
from rnnkit.tasks.chat.metrics import normalize

CHUNK = 65536  # bank rows per matrix product
_LETTER = re.compile(r"[^\W\d_]")


def build_bank(texts: list[str], encoder: TextEncoder, cfg: ChatConfig, where: str) -> list[str]:
    """The bank's texts from candidate ``texts`` (module doc).

    Raises:
        DataError: no text passes the filters.
    """
    counts: Counter = Counter()
    first: dict[str, str] = {}
    for text in texts:
        if not isinstance(text, str):
            raise DataError(problem(f"{where}: bank", expected="a list of str", got=type(text).__name__))
        key = normalize(text)
        counts[key] += 1
        first.setdefault(key, text.strip())
    kept = [key for key in first if passes(first[key], encoder, cfg)]
    if cfg.bank_size is not None and len(kept) > cfg.bank_size:
        order = sorted(range(len(kept)), key=lambda i: (-counts[kept[i]], i))
        kept = [kept[i] for i in sorted(order[: cfg.bank_size])]
    if not kept:
        raise DataError(problem(f"{where}: bank", expected="at least one reply of "
                                f"{cfg.bank_min_words}-{cfg.bank_max_words} words with letters and "
                                f"at most {cfg.bank_max_unknown:.0%} unknown tokens",
                                got=f"none of {len(first)}",
                                fix="pass bank=[...] texts, or widen bank_max_words / bank_max_unknown"))
    return [first[key] for key in kept]


def passes(text: str, encoder: TextEncoder, cfg: ChatConfig) -> bool:
    """Whether ``text`` may enter the bank (length, letters, unknown tokens; module doc)."""
    words = len(text.split())
    if not cfg.bank_min_words <= words <= cfg.bank_max_words or not _LETTER.search(text):
        return False
    ids = encoder.vocab.encode(encoder.tokenizer.tokenize(text))
    return bool(ids) and sum(i == UNK_ID for i in ids) <= cfg.bank_max_unknown * len(ids)


class ReplyBank:
    """``texts`` (B,) and their unit vectors ``vectors`` ``(B, K)`` float32."""

    def __init__(self, texts: list[str], vectors: torch.Tensor) -> None:
        if vectors.shape[0] != len(texts):
            raise DataError(problem("ReplyBank: vectors", expected=f"one row per text ({len(texts)})",
                                    got=tuple(vectors.shape)))
        self.texts, self.vectors = list(texts), vectors.float().contiguous()

    def __len__(self) -> int:
        return len(self.texts)

    @torch.no_grad()
    def search(self, queries: torch.Tensor, k: int, scale: float = 1.0, extra=None
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """The ``k`` best bank rows for each query: ``(scores (Q, k), indices (Q, k))``, best
        first, from unit queries ``(Q, K)``; the score is ``scale * cosine``, plus
        ``extra(start, stop)`` ``(Q, stop - start)`` when given (exact; chunked, module doc)."""
        k = min(k, len(self))
        queries = queries.float().to(self.vectors.device) * scale
        best_s = queries.new_full((len(queries), 0), float("-inf"))  # (Q, <=k)
        best_i = torch.zeros((len(queries), 0), dtype=torch.int64, device=queries.device)
        for start in range(0, len(self), CHUNK):
            s = queries @ self.vectors[start:start + CHUNK].T  # (Q, C)
            if extra is not None:
                s = s + extra(start, start + s.shape[1]).to(s)
            top_s, top_i = s.topk(min(k, s.shape[1]), dim=1)  # (Q, k')
            both_s = torch.cat([best_s, top_s], 1)
            both_i = torch.cat([best_i, top_i + start], 1)
            best_s, pick = both_s.topk(min(k, both_s.shape[1]), dim=1)
            best_i = both_i.gather(1, pick)
        return best_s, best_i

    def subset_vectors(self, index) -> np.ndarray:
        """The vectors of rows ``index`` as float64 ``(P, K)``."""
        return self.vectors[torch.as_tensor(index)].double().cpu().numpy()
