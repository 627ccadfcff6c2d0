"""The text classifier's settings: one dataclass, a default and a comment for each field.

The training settings (epochs, lr, patience …) come from
:class:`~rnnkit.tasks.core.TrainSettings`; the CLI reads the same fields from the
``[model]``/``[train]`` tables of a TOML config.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rnnkit.data.text.encoder import OVERLONG
from rnnkit.data.text.tokenizers import KINDS
from rnnkit.tasks.core import Choice, Flag, Int, Real, Rule, TrainSettings, is_number, setting
from rnnkit.tasks.core.limits import MAX_LAYERS, MAX_TOKENS, MAX_VOCAB, MAX_WIDTH, bounded

CELLS = ("lstm", "gru")
WHO = "TextClassifier"
DEFAULT_EMBEDDING_DIM = 128  # learned embeddings when embedding_dim is None and no file is given


def _class_weight(value) -> bool:
    """None, "balanced" or {label: weight > 0}."""
    if value is None or value == "balanced":
        return True
    return isinstance(value, dict) and all(is_number(w) and w > 0 for w in value.values())


@dataclass
class TextClassifierConfig(TrainSettings):

    WHO: ClassVar[str] = WHO
    # -- text -> ids
    tokenizer: str = setting("word", Choice(*KINDS))  # "word" (regex words), "char" or "bpe"
    #                                 (subwords learned on the texts)
    lowercase: bool = setting(True, Flag())  # lowercase before tokenizing
    bpe_vocab_size: int = setting(8000, bounded(1, MAX_VOCAB))  # symbols BPE learns (tokenizer="bpe" only)
    min_freq: int = setting(2, Int(1))  # a token needs this many training occurrences to get its own id
    max_vocab: int | None = setting(20000, bounded(5, MAX_VOCAB, optional=True))  # most ids in all (reserved
    #                                 ones included); None = no cap
    max_length: int | None = setting(400, bounded(1, MAX_TOKENS, optional=True))  # tokens per text; None = no limit
    overlong: str = setting("truncate", Choice(*OVERLONG))  # a longer text: "truncate" (warn,
    #                                 keep the first max_length) or "error"
    # -- network
    cell: str = setting("lstm", Choice(*CELLS))  # recurrent encoder: "lstm" or "gru"
    embedding_dim: int | None = setting(None, bounded(1, MAX_WIDTH, optional=True))  # None: 128 learned, or the
    #                                 dimension of the `embeddings` file (settings_ reports it)
    embeddings: str | None = setting(None, Rule(lambda v: isinstance(v, str), "the path of a "
                                                "word-vector text file", optional=True))  # GloVe /
    #                                 word2vec text format
    freeze_embeddings: bool = setting(False, Flag())  # keep loaded vectors fixed
    hidden_size: int = setting(64, bounded(1, MAX_WIDTH))  # encoder width per direction
    num_layers: int = setting(1, bounded(1, MAX_LAYERS))  # stacked recurrent layers
    bidirectional: bool = setting(True, Flag())  # read each text both ways
    attention_size: int = setting(64, bounded(1, MAX_WIDTH))  # width A of the additive attention
    dropout: float = setting(0.3, Real(0, 1, high_open=True))  # on the embeddings, between
    #                                 layers and before the head
    class_weight: str | dict | None = setting(None, Rule(_class_weight, "None, 'balanced' or a "
                                                         "dict {label: weight > 0}"))
    threshold: float = setting(0.5, Real(0, 1, high_open=True))  # multi-label: a label is
    #                                 predicted when its probability >= this
    refit: bool = setting(False, Flag())  # after early stopping, train a fresh network on *all*
    #                                 the texts for the best epoch count it found (the held-out
    #                                 share is not wasted)
    adversarial: float = setting(0.0, Real(0, note=" (0 = off)"))  # adversarial training
    #                                 (Miyato et al. 2017): each batch is also fitted with its
    #                                 embeddings moved this far per token (on average) along the
    #                                 loss gradient; 0 = off. Doubles the training cost
    ensemble: int = setting(1, bounded(1, 64))  # train this many networks (seeds seed, seed+1, ...;
    #                                 each with its own validation share) and average their
    #                                 probabilities
    keep_train_texts: bool = setting(True, Flag())  # keep the training texts in the model file,
    #                                 so a loaded model's evaluate() refits the TF-IDF baseline
    # -- training (TrainSettings), this task's defaults
    epochs: int = 20
    lr: float = 2e-3
    val_fraction: float = setting(0.1, Real(0, 0.5, high_open=True, fix="use 0 to train on "
                                            "everything without early stopping"))  # share of
    #                                 the training texts held out for early stopping

    @property
    def embedding_width(self) -> int:
        """The width of learned embeddings: ``embedding_dim``, or 128 when it is None."""
        return self.embedding_dim if self.embedding_dim is not None else DEFAULT_EMBEDDING_DIM

    def check_combinations(self) -> None:
        if self.refit and not self.val_fraction:
            self.refuse("refit", expected="val_fraction > 0 (the epoch count comes from early "
                        "stopping on it)", got="val_fraction=0", fix="set val_fraction=0.1, or refit=False")
        if self.freeze_embeddings and self.embeddings is None:
            self.refuse("freeze_embeddings", expected="False without an embeddings file", got=True,
                        fix="set embeddings='glove.txt', or freeze_embeddings=False")
