"""Serving a :class:`~rnnkit.LanguageModel`: generated text, and sessions that read text
piece by piece and answer the next-token distribution.

``predict`` instance: ``{"prompt": "The ", "max_tokens": 80, "temperature": 0.8, "top_k":
null, "top_p": 0.9, "seed": 1}``; answer: the generated continuation. Each instance
samples on its own (sampling is sequential per text).

A session is ``lm.stream()`` on the server: each step sends ``{"text": "..."}`` (or
``{"tokens": [ids]}``) and gets the most probable next tokens with their probabilities.
The tokens of many sessions' steps go through one batched ``model.step`` per position
(:func:`rnnkit.tasks.lm.stream.step_many`); a session's answers equal the whole-sequence
model's distribution at the same position.
"""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, Field

from rnnkit.errors import DataError
from rnnkit.serve.adapters.base import Prepared, Strict, TaskAdapter, per_item, register_adapter
from rnnkit.serve.adapters.examples import known_text
from rnnkit.tasks.lm.stream import step_many

MAX_TOKENS = 2000  # per instance
MAX_REQUEST_TOKENS = 8192  # all instances of one request together: generation is sequential
PROMPTS = ["The", "Der", "Le", "El"]  # OpenAPI example prompts; else the model's most frequent word


class GenerateInstance(Strict):
    prompt: str = Field("", max_length=100_000, description="Text to continue ('' starts a new record).")
    max_tokens: int = Field(100, ge=1, le=MAX_TOKENS)
    temperature: float = Field(1.0, ge=0.0, le=100.0, description="0 is greedy.")
    top_k: Optional[int] = Field(None, ge=1)
    top_p: Optional[float] = Field(None, gt=0.0, le=1.0)
    seed: Optional[int] = Field(None, ge=0, le=2**63 - 1, description="Same seed, same text.")


class Generated(BaseModel):
    text: str


class LMSessionOpen(Strict):
    top: int = Field(10, ge=1, le=1000, description="How many next tokens each step returns.")


class LMStep(Strict):
    text: Optional[str] = Field(None, min_length=1, max_length=100_000)
    tokens: Optional[list[int]] = Field(None, min_length=1, max_length=100_000)


class TokenProbability(BaseModel):
    token: str
    probability: float


class NextTokens(BaseModel):
    tokens_read: int
    position: int = Field(description="Tokens read since the session began.")
    top: list[TokenProbability]


@register_adapter("lm")
class LanguageModelAdapter(TaskAdapter):
    Instance, Prediction = GenerateInstance, Generated
    SessionOpen, Step, StepOutput = LMSessionOpen, LMStep, NextTokens

    def describe(self) -> dict:
        lm = self.estimator
        return {**super().describe(), "tokenizer": lm.config.tokenizer,
                "vocabulary": len(lm.encoder_.vocab), "metrics": getattr(lm, "metrics_", {})}

    def example_instance(self) -> dict:
        return {"prompt": self._prompt(), "max_tokens": 40, "temperature": 0.8, "top_p": 0.95, "seed": 1}

    def example_step(self) -> dict:
        return {"text": self._prompt()}

    def _prompt(self) -> str:
        return known_text(self.estimator.encoder_, PROMPTS, words=1) + " "

    def prepare(self, instance: GenerateInstance) -> Prepared:
        return Prepared(instance, max(1, instance.max_tokens))

    def check_request(self, prepared: list) -> None:
        total = sum(p.payload.max_tokens for p in prepared)
        if total > MAX_REQUEST_TOKENS:
            raise DataError(f"request: expected at most {MAX_REQUEST_TOKENS} max_tokens over all "
                            f"instances (text is generated one token at a time), got {total}; "
                            "split it into several requests")

    def predict_batch(self, instances: list) -> list:
        lm = self.estimator
        return per_item(lambda i: Generated(text=lm.generate(i.prompt, i.max_tokens, i.temperature,
                                                             i.top_k, i.top_p, i.seed)), instances)

    def open_session(self, body: LMSessionOpen | None):
        return self.estimator.stream(top=body.top if body is not None else 10)

    def prepare_step(self, stream, step: LMStep) -> Prepared:
        if (step.text is None) == (step.tokens is None):
            raise DataError("step: expected exactly one of 'text' or 'tokens', got "
                            + ("both" if step.text is not None else "neither"))
        ids = stream.token_ids(step.text if step.text is not None else step.tokens)
        return Prepared(ids, len(ids), None)

    def step_batch(self, pairs: list) -> list:
        results = step_many([s for s, _ in pairs], [ids for _, ids in pairs])
        return [NextTokens(tokens_read=r.tokens_read, position=r.position,
                           top=[TokenProbability(token=t, probability=p) for t, p in r.top])
                for r in results]
