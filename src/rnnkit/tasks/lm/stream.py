"""``LanguageModel.stream()``: read text piece by piece and see the next-token distribution.

A stream starts at the beginning of a record (it has read ``<eos>``, as every record in
training follows one). Each :meth:`LMStream.step` reads a text (tokenized with the model's
tokenizer), one token id or a list of ids, through the layer's one-step path, and returns
the distribution of the token that comes next. Reading a text step by step gives the same
distribution (to float rounding) as the whole-sequence model at the same position.
A server keeps one stream per session.

>>> s = lm.stream(top=5)
>>> s.step("The quick brown").top       # [(" ", 0.61), ("e", 0.08), ...]
>>> s.step("f").probabilities.sum()     # 1.0
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from rnnkit.data.text.vocab import EOS_ID
from rnnkit.errors import DataError, problem
from rnnkit.nn.stepping import stack_states, unstack_states


@dataclass
class NextToken:
    """What one :meth:`LMStream.step` returns."""

    tokens_read: int  # tokens this step read
    position: int  # tokens read since the stream began (the start <eos> not counted)
    top: list[tuple[str, float]]  # the most probable next tokens, most probable first
    probabilities: np.ndarray = field(repr=False)  # (V,) over the vocabulary ids, sums to 1

    def to_dict(self) -> dict:
        return {"tokens_read": self.tokens_read, "position": self.position,
                "top": [{"token": t, "probability": p} for t, p in self.top]}


class LMStream:
    """State of one stream; make one with ``LanguageModel.stream()``."""

    def __init__(self, lm, top: int = 10) -> None:
        self._lm, self.top = lm, top
        self.reset()

    def reset(self) -> None:
        """Back to the start of a record."""
        self._state, self._logits, self.position = None, None, 0
        self._read([EOS_ID])
        self.position = 0

    def _next(self, ids: list[int]) -> NextToken:
        p = torch.softmax(self._logits.double(), dim=0).cpu()  # (V,)
        k = min(self.top, len(p))
        values, index = torch.topk(p, k)
        tokens = self._lm.encoder_.vocab.tokens
        top = [(tokens[int(i)], float(v)) for v, i in zip(values, index)]
        return NextToken(len(ids), self.position, top, p.numpy())

    @torch.inference_mode()
    def _read(self, ids: list[int]) -> None:
        model = self._lm.model_
        device = next(model.parameters()).device
        for i in ids:
            logits, self._state = model.step(torch.tensor([i], device=device), self._state)
            self._logits = logits[0]  # (V,)
        self.position += len(ids)

    def step(self, text_or_token) -> NextToken:
        """Read a text, a token id or a list of ids; the next token's distribution."""
        ids = self.token_ids(text_or_token)
        self._read(ids)
        return self._next(ids)

    def token_ids(self, item) -> list[int]:
        """The token ids :meth:`step` would read for ``item``, checked, without reading them:
        a text is tokenized with the model's tokenizer (at least one token; only its last
        ``max_prompt_tokens`` are kept), an int or a list of ints must be ids of the
        vocabulary. A server checks a session's step with it before batching the read
        (:func:`step_many`). Raises :class:`~rnnkit.errors.DataError` for bad input."""
        where = "LMStream.step"
        if isinstance(item, str):
            return self._lm._prompt_ids(item, where, allow_empty=False)
        V = len(self._lm.encoder_.vocab)
        items = [item] if not isinstance(item, (list, tuple, np.ndarray)) else list(item)
        if not items:
            raise DataError(problem(f"{where}: input", expected="a text, a token id or a non-empty "
                                    "list of ids", got="an empty list"))
        for i in items:
            if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < V:
                raise DataError(problem(f"{where}: token id", expected=f"an int in [0, {V})",
                                        got=repr(i)[:40], fix="pass text, or ids from the "
                                        "model's vocabulary"))
        return [int(i) for i in items]


@torch.inference_mode()
def step_many(streams: list[LMStream], id_lists: list[list[int]]) -> list[NextToken]:
    """Read ``id_lists[i]`` into ``streams[i]`` for every stream at once: round ``r`` feeds
    the ``r``-th id of each stream that has one through one batched ``model.step``. The
    results equal ``streams[i].step(id_lists[i])`` one stream at a time (a server batches
    the steps of many sessions this way)."""
    if not streams:
        return []
    model = streams[0]._lm.model_
    device = next(model.parameters()).device
    for r in range(max(len(ids) for ids in id_lists)):
        active = [i for i, ids in enumerate(id_lists) if r < len(ids)]
        tokens = torch.tensor([id_lists[i][r] for i in active], device=device)  # (n,)
        state = stack_states([streams[i]._state for i in active], model.rnn)
        logits, state = model.step(tokens, state)  # (n, V)
        for j, (i, st) in enumerate(zip(active, unstack_states(state, len(active)))):
            streams[i]._state, streams[i]._logits = st, logits[j]
    for s, ids in zip(streams, id_lists):
        s.position += len(ids)
    return [s._next(ids) for s, ids in zip(streams, id_lists)]
