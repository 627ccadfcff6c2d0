"""Sequence to sequence (task ``seq2seq``): ``Seq2Seq``, a bidirectional encoder and an
attentional decoder (Bahdanau or Luong attention, input feeding) for translation and chat,
with greedy, beam and sampled decoding (settings in ``DecodingSettings``), BLEU / chrF
evaluation against a word-by-word dictionary baseline, and attention heat-maps."""

from rnnkit.tasks.seq2seq import datasets  # noqa: F401  (registers "ding-de-en" and "chitchat")
from rnnkit.tasks.seq2seq.config import DecodingSettings, Seq2SeqConfig
from rnnkit.tasks.seq2seq.estimator import Seq2Seq
from rnnkit.tasks.seq2seq.evaluation import TranslationReport

__all__ = ["DecodingSettings", "Seq2Seq", "Seq2SeqConfig", "TranslationReport"]
