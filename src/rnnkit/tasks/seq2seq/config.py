"""The sequence-to-sequence model's settings: two dataclasses, a default and a comment each.

:class:`Seq2SeqConfig` holds what ``fit`` uses (text -> ids, the network, training; the
shared training block comes from :class:`~rnnkit.tasks.core.TrainSettings`) and, under
``decoding``, a :class:`DecodingSettings`: how a fitted model writes its outputs (beam
width, length normalisation, the lexicon bonus, ``<unk>`` replacement …). Decoding
settings change no weights, so they can be changed after ``fit`` or after
:func:`rnnkit.load`::

    mt = Seq2Seq(cell="lstm", decoding=DecodingSettings(beam=5, alpha=1.0))
    mt = Seq2Seq(cell="lstm", decoding={"beam": 5, "alpha": 1.0})   # the same
    mt.set_params(decoding={"beam": 8})            # on a fitted model: all of them anew
    mt.config.decoding.lexicon_bonus = 0.25        # one of them (decoding a DecodingSettings,
    #                                                as by default and after rnnkit.load)

``config.decoding`` stays as given (scikit-learn's ``get_params`` / ``clone`` need the same
object back); ``config.decoding_settings`` is the :class:`DecodingSettings` in force.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

from rnnkit.data.text.encoder import OVERLONG
from rnnkit.data.text.tokenizers import KINDS
from rnnkit.errors import ConfigError, problem
from rnnkit.tasks.core import Choice, Flag, Int, Real, Rule, Settings, TrainSettings, setting
from rnnkit.tasks.core.limits import MAX_BEAM, MAX_LAYERS, MAX_TOKENS, MAX_VOCAB, MAX_WIDTH, bounded

CELLS = ("lstm", "gru")
ATTENTIONS = ("bahdanau", "luong")
LENGTH_PENALTIES = ("gnmt", "length", "none")
UNKNOWN_SOURCES = ("attention", "unknown_first")
WHO = "Seq2Seq"


@dataclass
class DecodingSettings(Settings):
    """How a fitted :class:`~rnnkit.Seq2Seq` decodes: the defaults of ``translate``,
    ``evaluate`` and ``reply`` (their keyword arguments override ``beam``, ``alpha`` and
    ``no_repeat_ngram_size`` for one call)."""

    WHO: ClassVar[str] = "Seq2Seq decoding"
    SETTING: ClassVar[str] = "Seq2Seq decoding setting"
    beam: int = setting(5, bounded(1, MAX_BEAM))  # default beam width of translate(); 1 = greedy
    length_penalty: str = setting("gnmt", Choice(*LENGTH_PENALTIES))  # "gnmt": ((5+|y|)/6)^alpha,
    #                                  "length": |y|^alpha, "none"
    alpha: float = setting(0.6, Real(0))  # length-normalisation strength (0 = raw log-probability)
    coverage_penalty: float = setting(0.0, Real(0))  # beta of beam search's coverage penalty (Wu
    #   et al. 2016): a hypothesis that leaves source words unattended ranks lower
    no_repeat_ngram_size: int = setting(0, bounded(0, MAX_TOKENS))  # > 0: no n-gram of this size twice in an
    #   output (fairseq's --no-repeat-ngram-size); 0 = off
    length_ratio: float = setting(2.0, Real(0, low_open=True))  # decode at most
    #   length_ratio * |x| + 10 tokens (and max_target_length)
    lexicon_bonus: float = setting(0.0, Real(0))  # beta > 0: until the output writes it, the
    #   lexicon's best translation e of each source token (probability >= lexicon_bonus_min_prob;
    #   a word or <unk>) gets beta * -ln pi(e) on its logit, pi the training targets' unigram
    #   frequency: soft lexical constraints (needs lexicon_top_k > 0; 0 = off; see seq2seq/bonus.py)
    lexicon_bonus_min_prob: float = setting(0.2, Real(0, 1))  # the lexicon probability a
    #   translation needs for the bonus
    replace_unknown: bool = setting(True, Flag())  # an output <unk> becomes a source word (or
    #   its dictionary entry)
    unknown_source: str = setting("unknown_first", Choice(*UNKNOWN_SOURCES))  # which: "attention"
    #   (the most attended source word) or "unknown_first" (the most attended one the source
    #   vocabulary lacks and no earlier <unk> took; else the most attended word)
    decompound: bool = setting(False, Flag())  # German sources: a source word the dictionary
    #   lacks fills an <unk> with the translation of its stem (qualifiziertes -> qualified) or
    #   of the two dictionary words it joins (Erfolgsgeschichte = Erfolg + s + Geschichte ->
    #   success story) before being copied (see WordByWord.decompose)


DECODING_KEYS = tuple(f.name for f in fields(DecodingSettings))


def as_decoding(value: DecodingSettings | dict) -> DecodingSettings:
    """``value`` itself if it is a :class:`DecodingSettings`, else one made from the dict
    (an unknown key is a ConfigError naming the nearest)."""
    return value if isinstance(value, DecodingSettings) else DecodingSettings.from_dict(value)


@dataclass
class Seq2SeqConfig(TrainSettings):

    WHO: ClassVar[str] = WHO
    SETTING: ClassVar[str] = f"{WHO} setting"
    # -- text -> ids (one tokenizer and vocabulary for sources, one for targets)
    tokenizer: str = setting("word", Choice(*KINDS))  # "word", "char" or "bpe" (for both sides)
    lowercase_source: bool = setting(True, Flag())  # lowercase the source before tokenizing
    lowercase_target: bool = setting(False, Flag())  # keep the target's case, so outputs read as text
    bpe_vocab_size: int = setting(8000, bounded(1, MAX_VOCAB))  # symbols BPE learns per side (tokenizer="bpe" only)
    min_freq: int = setting(2, Int(1))  # a token needs this many training occurrences to get its own id
    target_min_freq: int | None = setting(None, Int(1, optional=True))  # the same for target
    #   tokens; None = min_freq. Rarer targets become <unk>, which the decoder learns to write
    #   and replace_unknown fills in
    max_vocab: int | None = setting(20000, bounded(5, MAX_VOCAB, optional=True))  # most ids per side (reserved
    #   ones included); None = no cap
    max_source_length: int | None = setting(60, bounded(1, MAX_TOKENS, optional=True))  # source tokens; None = no limit
    max_target_length: int = setting(60, bounded(1, MAX_TOKENS))  # target tokens in training; also the decoding cap
    overlong: str = setting("truncate", Choice(*OVERLONG))  # a longer source: "truncate" (warn) or "error"
    # -- network
    cell: str = setting("gru", Choice(*CELLS))  # "lstm" or "gru" for encoder and decoder
    embedding_dim: int = setting(128, bounded(1, MAX_WIDTH))  # source and target embedding width E
    hidden_size: int = setting(256, bounded(2, MAX_WIDTH))  # decoder width H (even); the encoder has H // 2
    #   per direction
    num_layers: int = setting(1, bounded(1, MAX_LAYERS))  # stacked layers in encoder and decoder
    attention: str = setting("luong", Choice(*ATTENTIONS))  # "bahdanau" (additive) or "luong"
    #   (general, multiplicative)
    attention_size: int = setting(128, bounded(1, MAX_WIDTH))  # width A of the additive attention (bahdanau only)
    dropout: float = setting(0.2, Real(0, 1, high_open=True))  # dropout on embeddings, between
    #   layers and on the attentional vector
    lexicon_top_k: int = setting(0, bounded(0, MAX_VOCAB))  # > 0: bias the decoder with an IBM-1 lexicon of the
    #   training pairs keeping this many translations per source token (0 = off)
    lexical_model: bool = setting(False, Flag())  # a feed-forward path from the attended source
    #   embeddings to the output (Nguyen & Chiang 2018)
    tie_embeddings: bool = setting(False, Flag())  # the output layer scores the target embeddings
    #   (Press & Wolf 2017): one vector per target word for reading and writing
    coverage: bool = setting(False, Flag())  # the attention also sees each source token's
    #   attention so far (Tu et al. 2016), to move on from translated words
    # -- decoding: a DecodingSettings, or a dict of its fields (kept as given, for get_params)
    decoding: DecodingSettings | dict = setting(
        check=Rule(lambda v: isinstance(v, (DecodingSettings, dict)),
                   "a DecodingSettings or a dict of decoding settings",
                   fix="e.g. decoding={'beam': 5}"), factory=DecodingSettings)
    # -- training (TrainSettings holds the shared block; these are this task's own)
    label_smoothing: float = setting(0.0, Real(0, 1, high_open=True))  # cross-entropy label smoothing
    word_dropout: float = setting(0.0, Real(0, 1, high_open=True))  # share of source and
    #   decoder-input tokens turned to <unk> in training
    guided_alignment: float = setting(0.0, Real(0))  # weight of the attention loss towards the
    #   lexicon's alignment (needs lexicon_top_k > 0; 0 = off)
    coverage_loss: float = setting(0.0, Real(0))  # weight of See et al. (2017)'s penalty on
    #   attending a source token again: sum_s min(a_t(s), coverage_{t-1}(s)) (0 = off)
    # -- training (TrainSettings), this task's defaults
    batch_size: int = 64
    lr: float = 2e-3
    patience: int = 2  # early-stopping patience in epochs on the validation loss (the lr
    #   halves after max(1, 2 // 3) = 1 epoch without improvement)
    val_fraction: float = 0.05  # share of the training pairs held out for early stopping

    @classmethod
    def from_dict(cls, values: dict):
        """``cls(**values)``; a decoding key given at the top level is refused with the fix."""
        flat = [k for k in values if k in DECODING_KEYS]
        if flat:
            example = ", ".join(f"{k!r}: {values[k]!r}" for k in flat)
            raise ConfigError(problem(f"{WHO}: {flat[0]}", expected="it under decoding= (a decoding "
                                      "setting)", got=f"{flat[0]}={values[flat[0]]!r} at the top level",
                                      fix=f"pass decoding={{{example}}}"))
        return super().from_dict(values)

    @property
    def decoding_settings(self) -> DecodingSettings:
        """The :class:`DecodingSettings` in force (``decoding`` itself when it is one)."""
        return as_decoding(self.decoding)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for a model file; ``decoding`` as the full dict of its settings."""
        values = super().to_dict()  # a DecodingSettings becomes its dict
        if isinstance(self.decoding, dict):  # fill in the defaults (checked by validate, not here)
            values["decoding"] = {**asdict(DecodingSettings()), **self.decoding}
        return values

    def check_combinations(self) -> None:
        if self.hidden_size % 2:
            self.refuse("hidden_size", expected="an even number (the bidirectional encoder has "
                        "hidden_size // 2 per direction)", got=self.hidden_size,
                        fix=f"use {self.hidden_size + 1}")
        decoding = self.decoding_settings
        decoding.validate()
        if self.guided_alignment and not self.lexicon_top_k:
            self.refuse("guided_alignment", expected="lexicon_top_k > 0 (the alignment targets come "
                        "from the IBM-1 lexicon)", got=f"guided_alignment={self.guided_alignment!r} "
                        "with lexicon_top_k=0", fix="set lexicon_top_k, e.g. 8, or guided_alignment=0")
        if decoding.lexicon_bonus and not self.lexicon_top_k:
            self.refuse("decoding.lexicon_bonus", expected="lexicon_top_k > 0 (the bonus pushes the "
                        "lexicon's translations)", got=f"lexicon_bonus={decoding.lexicon_bonus!r} with "
                        "lexicon_top_k=0", fix="set lexicon_top_k, e.g. 8, or lexicon_bonus=0")


def settings_from_file(settings: dict) -> dict:
    """Settings as a model file holds them -> constructor keywords: the decoding settings
    (nested under ``decoding``, or flat in files saved before they were grouped)
    become a :class:`DecodingSettings`."""
    settings = dict(settings)
    nested = settings.pop("decoding", {})
    flat = {k: settings.pop(k) for k in DECODING_KEYS if k in settings}
    return {**settings, "decoding": DecodingSettings.from_dict({**flat, **nested})}
