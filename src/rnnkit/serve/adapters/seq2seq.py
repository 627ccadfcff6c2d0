"""Serving a :class:`~rnnkit.Seq2Seq` (translation and chat).

``predict`` instance: ``{"text": "Wie geht es dir?", "beam": 5}`` → ``{"output": ...}``;
with ``"reply": true`` the model answers as a chat partner instead (sampled, with
``temperature``, ``top_k``, ``top_p``, ``seed`` and the previous turn as ``context``).
Each instance is decoded on its own (beam search and sampling are sequential per text).

The OpenAPI example fits the model: a chat message with ``"reply": true`` for a chat model
(one whose sources hold ``<sep>``, the joint of context and message, or one fitted without
the translation dictionary), else a text in the model's source language (see
:mod:`~rnnkit.serve.adapters.examples`).
"""

from __future__ import annotations

from typing import Optional

from pydantic import BaseModel, Field

from rnnkit.serve.adapters.base import Prepared, Strict, TaskAdapter, per_item, register_adapter
from rnnkit.serve.adapters.examples import known_text

# "How are you?" in the languages a translation model most likely reads (German first)
TRANSLATE = ["Wie geht es dir?", "How are you?", "Comment allez-vous ?", "¿Cómo estás?",
             "Come stai?", "Hoe gaat het met je?", "Como você está?"]
CHAT = ["Hi! How are you today?", "Hello, how are you?", "What do you like to do?"]


class Seq2SeqInstance(Strict):
    text: str = Field(min_length=1, max_length=20_000, description="The source text (or chat message).")
    beam: Optional[int] = Field(None, ge=1, le=32, description="Beam width; 1 is greedy; None: the model's.")
    reply: bool = Field(False, description="Answer as a chat partner (sampling) instead of translating.")
    context: Optional[str] = Field(None, max_length=20_000, description="The previous turn, for chat.")
    temperature: float = Field(0.8, ge=0.0, le=100.0)
    top_k: Optional[int] = Field(None, ge=1)
    top_p: Optional[float] = Field(0.9, gt=0.0, le=1.0)
    seed: Optional[int] = Field(None, ge=0, le=2**62)


class Seq2SeqOutput(BaseModel):
    output: str


@register_adapter("seq2seq")
class Seq2SeqAdapter(TaskAdapter):
    Instance, Prediction = Seq2SeqInstance, Seq2SeqOutput

    def describe(self) -> dict:
        return {**super().describe(), "metrics": getattr(self.estimator, "metrics_", {})}

    def example_instance(self) -> dict:
        encoder = self.estimator.source_encoder_
        if self.estimator.is_chat:
            return {"text": known_text(encoder, CHAT), "reply": True, "temperature": 0.8, "seed": 1}
        return {"text": known_text(encoder, TRANSLATE), "beam": 3}

    def prepare(self, instance: Seq2SeqInstance) -> Prepared:
        return Prepared(instance, len(instance.text))

    def predict_batch(self, instances: list) -> list:
        return per_item(self._one, instances)

    def _one(self, i: Seq2SeqInstance) -> Seq2SeqOutput:
        m = self.estimator
        if i.reply:
            text = m.reply(i.text, i.context, temperature=i.temperature, top_k=i.top_k, top_p=i.top_p,
                           seed=i.seed, beam=i.beam)
        else:
            text = m.translate([i.text], beam=i.beam)[0]
        return Seq2SeqOutput(output=text)
