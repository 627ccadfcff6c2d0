"""Serving a :class:`~rnnkit.ChatModel`: replies picked from the model's bank of real
replies, and chat sessions that keep the conversation on the server.

``predict`` instance::

    {"text": "Do you like to read books?", "context": ["Hi!", "Hey, how are you?"],
     "k": 3, "diversity": 0.0, "temperature": 0.0, "seed": null}

(``context``: the earlier turns, oldest first, or null.) Answer: the reply and the ``k``
best candidates with their scores, best first (``reply`` is the first candidate)::

    {"reply": "I love reading!", "candidates": [{"text": "I love reading!", "score": 14.2}, ...]}

A session (``POST .../sessions``, optionally ``{"turns": N}``) starts with an empty
context; each step ``{"text": message}`` (with the options above but ``context``) answers
like ``predict`` with the session's context, then keeps the message and the reply as two
more turns: the last ``turns`` turns (default :data:`SESSION_TURNS`, at most
:data:`MAX_SESSION_TURNS`), and of those only as many recent ones as fit in
:data:`MAX_CONTEXT_CHARS` characters. A refused step changes nothing: the step runs on a
staged copy of the context that the server keeps only once the step is answered.

Bad input is a 422 that says what to send: an empty or blank message, a message longer
than :data:`MAX_TEXT_CHARS` characters, more than :data:`MAX_CONTEXT_TURNS` context turns.
A message of words the model never saw is answered (the encoder reads unknown words as
``<unk>``, so the reply is the bank's best guess). Each instance is answered on its own
(one context encoding and one search of the bank).
"""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, Field

from rnnkit.errors import DataError, problem
from rnnkit.serve.adapters.base import Prepared, Strict, TaskAdapter, per_item, register_adapter
from rnnkit.serve.adapters.examples import known_text

MAX_TEXT_CHARS = 5_000  # one message or context turn
MAX_CONTEXT_TURNS = 32  # earlier turns one predict instance may send
MAX_K = 20  # candidates an answer may list
SESSION_TURNS = 6  # turns a session keeps by default (3 messages and their replies)
MAX_SESSION_TURNS = 32
MAX_CONTEXT_CHARS = 4_000  # characters of a session's kept turns, all together
EXAMPLES = ["Hi! How are you doing today?", "Do you like to read books?", "What do you like to do?"]


class ReplyOptions(Strict):
    k: int = Field(5, ge=1, le=MAX_K, description="How many candidates to list.")
    diversity: float = Field(0.0, ge=0.0, lt=1.0, description="In [0, 1): more keeps near-duplicates "
                             "of a better candidate out of the list (maximal marginal relevance "
                             "among the best 50; 0 = off).")
    temperature: float = Field(0.0, ge=0.0, le=100.0, description="0: the candidates in score "
                               "order; more: an order sampled from softmax(score / temperature) "
                               "among the best max(k, 10).")
    seed: Optional[int] = Field(None, ge=0, le=2**62, description="Same seed, same reply.")


class ChatInstance(ReplyOptions):
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS, description="The message.")
    context: Optional[list[str]] = Field(None, max_length=MAX_CONTEXT_TURNS, description="The "
                                         "earlier turns of the conversation, oldest first.")


class Candidate(BaseModel):
    text: str
    score: float


class ChatReply(BaseModel):
    reply: str = Field(description="The reply: the first candidate.")
    candidates: list[Candidate] = Field(description="The k best replies of the bank, best first.")


class ChatSessionOpen(Strict):
    turns: int = Field(SESSION_TURNS, ge=0, le=MAX_SESSION_TURNS, description="How many recent "
                       "turns (messages and replies) the session keeps as context.")


class ChatStep(ReplyOptions):
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS, description="The next message.")


class ChatStepOutput(ChatReply):
    turns: int = Field(description="Turns the session keeps as context after this step.")


class Conversation:
    """A session's context: its last turns, oldest first, bounded by ``keep`` turns and
    :data:`MAX_CONTEXT_CHARS` characters."""

    def __init__(self, keep: int, turns: list[str] | None = None) -> None:
        self.keep, self.turns = keep, list(turns or [])

    def add(self, *turns: str) -> None:
        """Append ``turns``, then drop the oldest until the bounds hold."""
        kept = (self.turns + list(turns))[-self.keep:] if self.keep else []
        while kept and sum(map(len, kept)) > MAX_CONTEXT_CHARS:
            kept.pop(0)
        self.turns = kept

    def copy(self) -> "Conversation":
        return Conversation(self.keep, self.turns)


def _blank_check(text: str, where: str) -> None:
    if not text.strip():
        raise DataError(problem(f"{where}text", expected="a message with at least one word",
                                got="only whitespace", fix="send a non-empty message"))


def _context_check(turns: list[str]) -> None:
    for i, turn in enumerate(turns):
        if len(turn) > MAX_TEXT_CHARS:
            raise DataError(problem(f"context[{i}]", expected=f"at most {MAX_TEXT_CHARS} characters",
                                    got=len(turn), fix="send the recent part of that turn"))


@register_adapter("chat")
class ChatAdapter(TaskAdapter):
    Instance, Prediction = ChatInstance, ChatReply
    SessionOpen, Step, StepOutput = ChatSessionOpen, ChatStep, ChatStepOutput

    def describe(self) -> dict:
        m = self.estimator
        return {**super().describe(), "bank": len(m.bank_), "metrics": getattr(m, "metrics_", {})}

    def _message(self) -> str:
        encoder = getattr(self.estimator, "encoder_", None)
        return EXAMPLES[0] if encoder is None else known_text(encoder, EXAMPLES)

    def example_instance(self) -> dict:
        return {"text": self._message(), "context": None, "k": 3}

    def example_step(self) -> dict:
        return {"text": self._message()}

    # ---- predict ------------------------------------------------------------------------
    def prepare(self, instance: ChatInstance) -> Prepared:
        _blank_check(instance.text, "")
        _context_check(instance.context or [])
        return Prepared(instance, len(instance.text))

    def predict_batch(self, instances: list) -> list:
        return per_item(lambda i: self._answer(i, i.context), instances)

    def _answer(self, options: ReplyOptions, context: list[str] | None) -> ChatReply:
        found = self.estimator.replies(options.text, context or None, k=options.k,
                                       diversity=options.diversity, temperature=options.temperature,
                                       seed=options.seed)
        candidates = [Candidate(text=text, score=float(score)) for text, score in found]
        return ChatReply(reply=candidates[0].text, candidates=candidates)

    # ---- sessions -----------------------------------------------------------------------
    def open_session(self, body: ChatSessionOpen | None) -> Conversation:
        return Conversation(body.turns if body is not None else SESSION_TURNS)

    def prepare_step(self, conversation: Conversation, step: ChatStep) -> Prepared:
        _blank_check(step.text, "step: ")
        return Prepared(step, 1)

    def stage(self, conversation: Conversation) -> Conversation:
        return conversation.copy()

    def step_batch(self, pairs: list) -> list:
        return per_item(self._step, pairs)

    def _step(self, pair: tuple[Conversation, ChatStep]) -> ChatStepOutput:
        conversation, step = pair
        answer = self._answer(step, conversation.turns)
        conversation.add(step.text, answer.reply)  # the staged copy: kept once answered
        return ChatStepOutput(reply=answer.reply, candidates=answer.candidates,
                              turns=len(conversation.turns))
