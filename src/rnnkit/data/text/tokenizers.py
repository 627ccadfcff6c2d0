"""Tokenizers: text -> a list of token strings, each saved as a JSON-able dict.

Three kinds, one interface (``fit(texts)`` returns ``self``, ``tokenize(text)``,
``to_dict()``, and :func:`tokenizer_from_dict` to rebuild one):

* ``CharTokenizer``: every character is a token (whitespace included, so the text can be
  rebuilt from its tokens); nothing to learn.
* ``WordTokenizer``: the matches of :data:`WORD_PATTERN` — runs of letters/digits/``_``
  with inner apostrophes (``don't``, ``it's``) or single punctuation marks; whitespace is
  dropped. Nothing to learn.
* ``BPETokenizer``: byte-pair encoding (Sennrich et al. 2016) learned on the training
  texts with HuggingFace ``tokenizers``: starting from characters, the most frequent
  adjacent pair of symbols is merged, repeatedly, until ``vocab_size`` symbols exist.
  With ``word_ends=True`` (the default) texts are first split into :data:`WORD_PATTERN`
  words and the last piece of every word carries the mark :data:`WORD_END`
  (``"tired."`` -> ``["ti", "red</w>", ".</w>"]``), so :meth:`BPETokenizer.detokenize`
  rebuilds the words exactly and spaces them like :func:`join_words`; models that write
  text (translation, generation) need this. ``word_ends=False`` splits on whitespace and
  punctuation runs and leaves pieces unmarked (plain substrings), which cannot be turned
  back into text; the text classifier uses it. Saved as the library's own JSON
  (``Tokenizer.to_str()``), which loads without running code.

All lowercase by default (``lowercase=False`` keeps case).
"""

from __future__ import annotations

import json
import re
from typing import Iterable

from rnnkit.errors import ConfigError, DataError, problem, unknown_name

#: Word tokens: ``\w+('\w+)*`` (a word with inner apostrophes) or one non-space, non-word
#: character (punctuation, symbols, emoji).
WORD_PATTERN = r"\w+(?:'\w+)*|[^\w\s]"

KINDS = ("word", "char", "bpe")
UNKNOWN = "<unk>"
WORD_END = "</w>"  # BPE: the suffix of a word's last piece
_BEFORE = re.compile(r" ([.,!?;:%)\]}])")
_AFTER = re.compile(r"([(\[{]) ")


def join_words(words: Iterable[str]) -> str:
    """Word tokens back to text: spaces between words, none before ``.,!?;:%)`` or after
    ``(`` (``["Hi", ",", "you", "!"]`` -> ``"Hi, you!"``)."""
    return _AFTER.sub(r"\1", _BEFORE.sub(r"\1", " ".join(words)))


class CharTokenizer:
    """Characters as tokens: ``"Hi!" -> ["h", "i", "!"]`` (lowercased by default)."""

    kind = "char"

    def __init__(self, lowercase: bool = True) -> None:
        self.lowercase = lowercase

    def fit(self, texts: Iterable[str]) -> "CharTokenizer":
        return self

    def tokenize(self, text: str) -> list[str]:
        return list(text.lower() if self.lowercase else text)

    def detokenize(self, tokens: list[str]) -> str:
        return "".join(tokens)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "lowercase": self.lowercase}


class WordTokenizer:
    """Regex words: ``"Don't buy it!" -> ["don't", "buy", "it", "!"]``.

    ``pattern`` (default :data:`WORD_PATTERN`) is any Python regex; each match is a token.
    """

    kind = "word"

    def __init__(self, lowercase: bool = True, pattern: str = WORD_PATTERN) -> None:
        try:
            self._regex = re.compile(pattern)
        except re.error as err:
            raise ConfigError(problem("WordTokenizer: pattern", expected="a valid regular expression",
                                      got=f"{pattern!r} ({err})")) from None
        self.lowercase, self.pattern = lowercase, pattern

    def fit(self, texts: Iterable[str]) -> "WordTokenizer":
        return self

    def tokenize(self, text: str) -> list[str]:
        return self._regex.findall(text.lower() if self.lowercase else text)

    def detokenize(self, tokens: list[str]) -> str:
        """Words spaced like prose (:func:`join_words`)."""
        return join_words(tokens)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "lowercase": self.lowercase, "pattern": self.pattern}


class BPETokenizer:
    """Subword pieces learned by byte-pair encoding on the training texts.

    ``vocab_size`` is the number of symbols (characters plus merges) to learn;
    ``min_frequency`` the fewest occurrences a pair needs to be merged; ``word_ends`` marks
    the last piece of each word (see the module doc).
    """

    kind = "bpe"

    def __init__(self, vocab_size: int = 8000, min_frequency: int = 2, lowercase: bool = True,
                 word_ends: bool = True) -> None:
        self.vocab_size, self.min_frequency, self.lowercase = vocab_size, min_frequency, lowercase
        self.word_ends = word_ends
        self._tok = None

    def fit(self, texts: Iterable[str]) -> "BPETokenizer":
        from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, trainers

        suffix = {"end_of_word_suffix": WORD_END} if self.word_ends else {}
        tok = Tokenizer(models.BPE(unk_token=UNKNOWN, **suffix))
        steps = [normalizers.NFKC()] + ([normalizers.Lowercase()] if self.lowercase else [])
        tok.normalizer = normalizers.Sequence(steps)
        if self.word_ends:  # words of WORD_PATTERN, no whitespace
            tok.pre_tokenizer = pre_tokenizers.Sequence([
                pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split(Regex(WORD_PATTERN), "isolated")])
        else:
            tok.pre_tokenizer = pre_tokenizers.Whitespace()  # \w+ | [^\w\s]+
        trainer = trainers.BpeTrainer(vocab_size=self.vocab_size, min_frequency=self.min_frequency,
                                      special_tokens=[UNKNOWN], show_progress=False, **suffix)
        tok.train_from_iterator(list(texts), trainer=trainer)
        self._tok = tok
        return self

    def tokenize(self, text: str) -> list[str]:
        if self._tok is None:
            raise ConfigError("BPETokenizer: not trained yet; call fit(texts) first")
        return self._tok.encode(text).tokens

    def tokenize_batch(self, texts: list[str]) -> list[list[str]]:
        """Like ``[tokenize(t) for t in texts]``, in the library's parallel batch call."""
        if self._tok is None:
            raise ConfigError("BPETokenizer: not trained yet; call fit(texts) first")
        return [e.tokens for e in self._tok.encode_batch(texts)]

    def detokenize(self, tokens: list[str]) -> str:
        """Pieces back to text: pieces up to one ending in :data:`WORD_END` form a word,
        words are spaced by :func:`join_words` (unmarked pieces, ``word_ends=False``, can
        only be joined by spaces)."""
        if not self.word_ends:
            return " ".join(tokens)
        return join_words("".join(tokens).replace(WORD_END, " ").split())

    def to_dict(self) -> dict:
        if self._tok is None:
            raise ConfigError("BPETokenizer.to_dict: not trained yet; call fit(texts) first")
        return {"kind": self.kind, "vocab_size": self.vocab_size, "min_frequency": self.min_frequency,
                "lowercase": self.lowercase, "word_ends": self.word_ends, "model": json.loads(self._tok.to_str())}

    @classmethod
    def from_dict(cls, d: dict) -> "BPETokenizer":
        from tokenizers import Tokenizer

        self = cls(d["vocab_size"], d["min_frequency"], d["lowercase"], d.get("word_ends", False))
        try:
            self._tok = Tokenizer.from_str(json.dumps(d["model"]))
        except Exception as err:  # the library raises a plain Exception on a bad document
            raise DataError(problem("BPETokenizer.from_dict: model", expected="a tokenizers JSON "
                                    "document", got=f"one it cannot read ({err})",
                                    fix="save the model again")) from None
        return self


def make_tokenizer(kind: str, *, lowercase: bool = True, bpe_vocab_size: int = 8000,
                   bpe_min_frequency: int = 2, bpe_word_ends: bool = True):
    """A new (unfitted) tokenizer of ``kind`` (``"word"``, ``"char"`` or ``"bpe"``)."""
    if kind == "word":
        return WordTokenizer(lowercase)
    if kind == "char":
        return CharTokenizer(lowercase)
    if kind == "bpe":
        return BPETokenizer(bpe_vocab_size, bpe_min_frequency, lowercase, bpe_word_ends)
    raise ConfigError(unknown_name("tokenizer", str(kind), KINDS))


def tokenizer_from_dict(d: dict):
    """Rebuild a tokenizer from its :meth:`to_dict`."""
    kind = d.get("kind") if isinstance(d, dict) else None
    if kind == "word":
        return WordTokenizer(d["lowercase"], d["pattern"])
    if kind == "char":
        return CharTokenizer(d["lowercase"])
    if kind == "bpe":
        return BPETokenizer.from_dict(d)
    raise DataError(unknown_name("tokenizer kind in the saved state", str(kind), KINDS)
                    + " (the file may need a newer rnnkit)")


def tokenize_all(tokenizer, texts: list[str]) -> list[list[str]]:
    """Every text's tokens (in one batch call where the tokenizer has one)."""
    batch = getattr(tokenizer, "tokenize_batch", None)
    return batch(texts) if batch is not None else [tokenizer.tokenize(t) for t in texts]
