"""Filling an output ``<unk>`` from the source (``replace_unknown``; Luong et al. 2015).

An output token ``<unk>`` at step ``t`` has an attention row ``a_t`` ``(S,)`` over the
source tokens. A rule picks one source position ``s`` from it (punctuation and ``<sep>``
never: only words, :func:`~rnnkit.tasks.seq2seq.baselines.is_word`):

* ``"attention"`` (:func:`most_attended`): ``argmax_s a_t(s)`` over the words;
* ``"unknown_first"`` (:func:`unknown_first`): the same over the words the source
  vocabulary lacks and no earlier ``<unk>`` of the output took (a rare word is most likely
  what a rare output word translates); without one, ``"attention"``'s choice.

The source word then becomes its dictionary translation, else (``decompound``) that of its
stem or parts, else itself (:func:`fill_word`).
"""

from __future__ import annotations

import re
from typing import Callable

import numpy as np

from rnnkit.data.text.encoder import TextEncoder
from rnnkit.data.text.tokenizers import WORD_PATTERN
from rnnkit.data.text.vocab import UNK
from rnnkit.tasks.seq2seq.baselines import WordByWord, is_word
from rnnkit.tasks.seq2seq.features import SEP, tokens

Rule = Callable[[np.ndarray, np.ndarray, np.ndarray, list], "int | None"]


def most_attended(weights: np.ndarray, is_word: np.ndarray, taken: list[int]) -> int | None:
    """The most attended source word's position (None if the source has no word).
    ``weights`` and ``is_word`` are ``(S,)``; ``taken``, the positions earlier ``<unk>`` of
    the output used, is not consulted: a rule that avoids them lost greedy BLEU on the dev
    split (docs/seq2seq.md; ``benchmarks/seq2seq_probes.py unk-distinct``)."""
    if not is_word.any():
        return None
    return int(np.argmax(np.where(is_word, weights, -np.inf)))


def unknown_first(weights: np.ndarray, is_word: np.ndarray, unknown: np.ndarray,
                  taken: list[int]) -> int | None:
    """The most attended source word that the source vocabulary lacks (``unknown`` ``(S,)``)
    and that no earlier ``<unk>`` took; without one, the most attended word."""
    fresh = unknown & is_word
    fresh[[i for i in taken if i < len(fresh)]] = False
    return most_attended(weights, fresh if fresh.any() else is_word, taken)


def source_words(encoder: TextEncoder, source: str, where: str) -> tuple[list[str], np.ndarray]:
    """The source tokens as the model read them, in their original case where the word
    tokenizer allows it, and which of them the source vocabulary lacks ``(S,)``."""
    read = tokens(encoder, [source], where)[0]
    unknown = np.array([t not in encoder.vocab for t in read], dtype=bool)
    if encoder.tokenizer.kind == "word" and SEP not in source:
        cased = re.findall(WORD_PATTERN, source)
        if len(cased) >= len(read):
            return cased[: len(read)], unknown
    return read, unknown


def fill_word(word: str, dictionary: WordByWord | None, decompound: bool) -> str:
    """What an output ``<unk>`` filled from the source word ``word`` becomes: its dictionary
    translation, else (``decompound``) that of its stem or its parts, else the word itself."""
    if dictionary is None:
        return word
    if word.lower() in dictionary.lexicon:
        return dictionary.lexicon[word.lower()]
    return (decompound and dictionary.decompose(word)) or word


def replace_unknowns(words: list[str], attention: list, src: list[str], unknown: np.ndarray,
                     rule: Rule, fill: Callable[[str], str]) -> list[str]:
    """``words`` with each ``<unk>`` at step ``t`` replaced by ``fill(src[s])``, ``s`` the
    position ``rule(a_t, is_word, unknown, taken)`` picks (``attention[t]`` the row ``a_t``;
    an ``<unk>`` with no row, or no word to pick, stays)."""
    word_mask = np.array([is_word(w) for w in src], dtype=bool)
    words, taken = list(words), []
    for t, w in enumerate(words):
        if w == UNK and t < len(attention):
            weights = np.asarray(attention[t], dtype=float)[: len(src)]
            n = len(weights)
            s = rule(weights, word_mask[:n], unknown[:n], taken)
            if s is not None:
                taken.append(s)
                words[t] = fill(src[s])
    return words

