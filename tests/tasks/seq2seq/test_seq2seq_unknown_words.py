"""Filling an output ``<unk>``: which source word (``unknown_source``) and what it becomes
(the dictionary, or with ``decompound`` its stem or parts)."""

import numpy as np
import pytest

from rnnkit.data.text.vocab import UNK_ID
from rnnkit.tasks.seq2seq.baselines import WordByWord
from rnnkit.tasks.seq2seq.decoding import Hypothesis
from rnnkit.tasks.seq2seq.unknowns import unknown_first


def german() -> WordByWord:
    d = WordByWord()
    d.lexicon = {"erfolg": "success", "geschichte": "story", "qualifiziert": "qualified",
                 "krankenhaus": "hospital", "zimmer": "room", "haus": "house", "tür": "door",
                 "haustür": "front door", "kranken": "sick", "hauszimmer": "parlour", "erfolgs": "of success"}
    d.counts = {"erfolg": 5, "geschichte": 3, "qualifiziert": 1, "krankenhaus": 9, "zimmer": 4,
                "haus": 20, "tür": 6, "haustür": 1, "kranken": 1, "hauszimmer": 1, "erfolgs": 1}
    return d


@pytest.mark.parametrize("word, expected", [
    ("Erfolgsgeschichte", "success story"),  # linking s
    ("qualifiziertes", "qualified"),  # an inflection ending stripped
    ("Krankenhauszimmern", "hospital room"),  # ending stripped, then split (9*4 beats 1*1)
    ("Haustürschlüssel", None),  # "schlüssel" unknown: no split
    ("Hausbau", None),  # "bau" is under 4 letters
])
def test_decompose_known_answers(word, expected):
    assert german().decompose(word) == expected


def test_the_split_with_the_more_frequent_parts_wins():
    d = german()
    assert d.compound("krankenhauszimmer") == "hospital room"  # sqrt(9*4) > sqrt(1*1) (kranken+hauszimmer)
    d.counts["kranken"] = d.counts["hauszimmer"] = 100
    assert d.compound("krankenhauszimmer") == "sick parlour"


def test_word_counts_are_learned_saved_and_optional():
    d = WordByWord().fit(["Das Haus ist groß.", "Das Zimmer ist klein."],
                         ["The house is big.", "The room is small."])
    assert d.counts["das"] == 2 and d.counts["haus"] == 1 and d.counts["."] == 2
    again = WordByWord.from_dict(d.to_dict())
    assert again.counts == d.counts and again.lexicon == d.lexicon
    old = {k: v for k, v in d.to_dict().items() if k != "counts"}  # a file from before the counts
    assert WordByWord.from_dict(old).compound("hauszimmer") is None
    assert again.compound("hauszimmer") == f"{d.lexicon['haus']} {d.lexicon['zimmer'].lower()}"


def test_unknown_first_prefers_unattended_unknown_words_not_yet_taken():
    weights = np.array([0.5, 0.3, 0.15, 0.05])  # a(known) zyx(unknown) qq(unknown) "."
    is_word = np.array([True, True, True, False])
    unknown = np.array([False, True, True, True])
    pick = unknown_first
    assert pick(weights, is_word, unknown, []) == 1  # zyx, though "a" has more attention
    assert pick(weights, is_word, unknown, [1]) == 2  # zyx taken -> qq
    assert pick(weights, is_word, unknown, [1, 2]) == 0  # all unknown words taken -> most attended word
    assert pick(weights, np.zeros(4, bool), unknown, []) is None


def test_words_fill_unk_by_the_configured_rule(reversal_model):
    m = reversal_model
    a = m.target_encoder_.vocab.tokens.index("a")
    h = Hypothesis(tokens=[UNK_ID, a, UNK_ID], score=0.0, length=4, finished=True,
                   attention=[[0.5, 0.3, 0.1, 0.1], [0.1, 0.1, 0.1, 0.7], [0.4, 0.5, 0.05, 0.05]])
    saved = m.dictionary_
    m.dictionary_ = german()
    try:
        source = "a Zyx Erfolgsgeschichte ."
        assert m.output_words(h, source) == ["Zyx", "a", "Erfolgsgeschichte"]  # unknown_first, copied
        m.config.decoding.decompound = True
        assert m.output_words(h, source) == ["Zyx", "a", "success story"]
        m.config.decoding.unknown_source = "attention"
        assert m.output_words(h, source) == ["a", "a", "Zyx"]  # "a" itself: not in this dictionary
    finally:
        m.dictionary_, m.config.decoding.decompound, m.config.decoding.unknown_source = saved, False, "unknown_first"
