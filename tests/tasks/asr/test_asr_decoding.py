"""CTC decoders on hand-made log-probability matrices with known answers."""

import math
import re

import numpy as np
import pytest

from rnnkit.errors import ConfigError, DataError
from rnnkit.tasks.asr import alphabet
from rnnkit.tasks.asr.decoding import (
    AnyOf,
    Pattern,
    Phrases,
    Vocabulary,
    as_constraint,
    collapse,
    greedy,
    prefix_beam_search,
)

C = alphabet.SIZE


def frames(*rows: dict) -> np.ndarray:
    """One row per frame: {char: probability} ('-' is the blank); the rest spread thinly."""
    out = np.full((len(rows), C), 1e-6)
    for t, row in enumerate(rows):
        for ch, p in row.items():
            out[t, alphabet.BLANK if ch == "-" else alphabet.char_id(ch)] = p
        out[t] /= out[t].sum()
    return np.log(out)


def path(text: str) -> np.ndarray:
    """A near-certain frame per character of ``text`` ('-' = blank)."""
    return frames(*({ch: 0.99} for ch in text))


def test_alphabet_round_trip_and_unknown_characters():
    assert alphabet.SIZE == 29 and alphabet.BLANK == 0 and alphabet.char_id(" ") == 1
    ids = alphabet.encode("  Don't  STOP ")
    assert alphabet.decode(ids) == "don't stop"
    with pytest.raises(DataError, match="spell digits"):
        alphabet.encode("call 911")
    with pytest.warns(UserWarning, match="dropped"):
        assert alphabet.decode(alphabet.encode("call 911!", unknown="drop")) == "call"


def test_collapse_merges_runs_then_drops_blanks():
    a, b = alphabet.char_id("a"), alphabet.char_id("b")
    assert collapse([a, a, 0, a, b, b]) == [a, a, b]  # B(a a ∅ a b b) = "aab"
    assert collapse([a, a, a]) == [a]
    assert collapse([0, 0]) == []


def test_greedy_is_best_path_with_collapse():
    assert greedy(path("hh-ee-ll-ll-oo")) == "hello"  # the blank keeps the double l
    assert greedy(path("helo")) == "helo"
    assert greedy(path("  a  b ")) == "a b"  # spaces normalised
    assert greedy(np.zeros((0, C))) == ""


def test_beam_search_finds_the_label_greedy_misses():
    # two frames of p(blank)=0.6, p(a)=0.4: best path "" (0.36), but p("a") = 0.64
    lp = frames({"-": 0.6, "a": 0.4}, {"-": 0.6, "a": 0.4})
    assert greedy(lp) == ""
    (text, score), = prefix_beam_search(lp, beam=4)
    assert text == "a"
    assert score == pytest.approx(math.log(0.64), abs=1e-4)


def test_beam_search_scores_are_ctc_probabilities():
    lp = frames({"-": 0.5, "a": 0.3, "b": 0.2}, {"-": 0.5, "a": 0.3, "b": 0.2}, {"-": 0.5, "a": 0.3, "b": 0.2})
    results = dict(prefix_beam_search(lp, beam=50, nbest=50, prune=math.log(1e-3)))
    total = sum(math.exp(s) for s in results.values())
    assert total == pytest.approx(1.0, abs=1e-3)  # every label sequence of 3 frames, mass conserved
    assert math.exp(results[""]) == pytest.approx(0.5 ** 3, rel=1e-3)


def test_beam_search_agrees_with_greedy_on_peaked_frames():
    lp = path("th-rr-ee-e  o-n-e")
    assert prefix_beam_search(lp, beam=8)[0][0] == greedy(lp) == "three one"


def test_vocabulary_forbids_a_non_word():
    # "on" wins open-vocabulary (0.6), "one" (0.4) is the only vocabulary word that fits
    lp = frames({"o": 0.95}, {"n": 0.95}, {"-": 0.6, "e": 0.4})
    assert prefix_beam_search(lp, beam=8)[0][0] == "on"
    assert prefix_beam_search(lp, beam=8, constraint=Vocabulary(["one", "two"]))[0][0] == "one"


def test_vocabulary_needs_whole_words_between_spaces():
    vocab = Vocabulary(["one", "two"])
    lp = path("on-e tw-o")
    assert prefix_beam_search(lp, beam=8, constraint=vocab)[0][0] == "one two"
    # "onetwo" is no word: the space is required even if the model skips it
    lp = path("onetwo")
    assert prefix_beam_search(lp, beam=8)[0][0] == "onetwo"
    assert prefix_beam_search(lp, beam=8, constraint=vocab)[0][0] != "onetwo"


def test_phrases_grammar_and_pattern():
    lp = frames({"s": 0.9}, {"t": 0.9}, {"o": 0.9}, {"p": 0.5, "-": 0.5})
    assert prefix_beam_search(lp, beam=8)[0][0] in ("sto", "stop")
    assert prefix_beam_search(lp, beam=8, constraint=Phrases(["stop", "go back"]))[0][0] == "stop"
    assert prefix_beam_search(lp, beam=8, constraint=Pattern(r"st\w+p"))[0][0] == "stop"
    # nothing in the beam fits: the empty transcript
    assert prefix_beam_search(lp, beam=8, constraint=Phrases(["yes"]))[0][0] == ""


def test_any_of_is_a_union_of_grammars():
    grammar = AnyOf(Vocabulary(["one", "two"]), Phrases(["go back", "stop"]))
    assert prefix_beam_search(path("tw-o o-n-e"), beam=8, constraint=grammar)[0][0] == "two one"
    assert prefix_beam_search(path("go bac-k"), beam=8, constraint=grammar)[0][0] == "go back"
    # "go one" mixes the two: neither part allows it
    assert prefix_beam_search(path("go o-n-e"), beam=8, constraint=grammar)[0][0] != "go one"
    with pytest.raises(ConfigError):
        AnyOf(Pattern("x"))


def test_constraint_arguments():
    assert as_constraint(False) is None and as_constraint(None) is None
    assert isinstance(as_constraint(True, ["one"]), Vocabulary)
    assert isinstance(as_constraint(["one", "two"]), Vocabulary)
    assert isinstance(as_constraint(re.compile("one|two")), Pattern)
    with pytest.raises(ConfigError, match="Phrases"):
        Vocabulary(["turn on"])
    with pytest.raises(ConfigError):
        as_constraint("one two")
    with pytest.raises(ConfigError, match="beam"):
        prefix_beam_search(path("a"), beam=0)
    with pytest.raises(DataError):
        prefix_beam_search(np.zeros((3, 5)))
