"""Tokenizers and the vocabulary: known answers, JSON round trips, the reserved ids."""

import json

import pytest

from rnnkit.data.text import BPETokenizer, CharTokenizer, Vocabulary, WordTokenizer, make_tokenizer, tokenizer_from_dict
from rnnkit.errors import ConfigError, DataError

TEXTS = ["The tea was lovely, I'd buy it again!", "Don't buy this tea: stale and bland.",
         "Lovely coffee; lovely price."] * 5


def test_word_tokenizer_known_answer_and_case():
    assert WordTokenizer().tokenize("Don't buy it!  Tea-time") == ["don't", "buy", "it", "!", "tea", "-", "time"]
    assert WordTokenizer().detokenize(["hi", ",", "you", "(", "there", ")", "!"]) == "hi, you (there)!"
    assert WordTokenizer(lowercase=False).tokenize("Tea TIME") == ["Tea", "TIME"]


def test_char_tokenizer_keeps_every_character():
    tok = CharTokenizer()
    assert tok.tokenize("Hi !") == ["h", "i", " ", "!"]
    assert tok.detokenize(tok.tokenize("ab c")) == "ab c"


@pytest.mark.parametrize("tok", [WordTokenizer(), WordTokenizer(lowercase=False, pattern=r"\S+"),
                                 CharTokenizer(lowercase=False)])
def test_rule_tokenizers_round_trip_through_json(tok):
    again = tokenizer_from_dict(json.loads(json.dumps(tok.to_dict())))
    assert type(again) is type(tok)
    for text in TEXTS[:3]:
        assert again.tokenize(text) == tok.tokenize(text)


def test_bpe_trains_and_round_trips_through_json():
    tok = BPETokenizer(vocab_size=60, min_frequency=2).fit(TEXTS)
    tokens = tok.tokenize("lovely tea, stale coffee")
    assert "".join(tokens) == "lovely</w>tea</w>,</w>stale</w>coffee</w>"  # a word's last piece is marked
    assert len(tokens) < len("lovelytea,stalecoffee")  # merges were learned
    assert tok.detokenize(tokens) == "lovely tea, stale coffee"
    d = json.loads(json.dumps(tok.to_dict()))
    again = tokenizer_from_dict(d)
    for text in TEXTS[:3] + ["unseen words: zebra quartz"]:
        assert again.tokenize(text) == tok.tokenize(text)


def test_bpe_detokenize_rebuilds_words_and_prose_spacing():
    tok = BPETokenizer(vocab_size=40, min_frequency=2, lowercase=False).fit(TEXTS)
    for text in TEXTS[:3] + ["Tea: I'd see stale coffee, lovely!"]:
        pieces = tok.tokenize(text)
        assert len(pieces) > len(text.split())  # rare words are split into several pieces
        assert tok.detokenize(pieces) == text
    assert tok.detokenize([]) == ""


def test_bpe_without_word_ends_gives_plain_substrings():
    tok = BPETokenizer(vocab_size=60, min_frequency=2, word_ends=False).fit(TEXTS)
    tokens = tok.tokenize("lovely tea, stale coffee")
    assert "".join(tokens) == "lovelytea,stalecoffee"
    assert tok.detokenize(tokens) == " ".join(tokens)  # unmarked pieces cannot rebuild words
    again = tokenizer_from_dict(json.loads(json.dumps(tok.to_dict())))
    assert again.tokenize("lovely tea, stale coffee") == tokens
    assert again.detokenize(tokens) == " ".join(tokens)


def test_bpe_must_be_trained_and_unknown_kinds_are_named():
    with pytest.raises(ConfigError, match="not trained"):
        BPETokenizer().tokenize("x")
    with pytest.raises(ConfigError, match="did you mean 'word'"):
        make_tokenizer("words")
    with pytest.raises(DataError, match="tokenizer kind"):
        tokenizer_from_dict({"kind": "sentencepiece"})


def test_vocabulary_reserved_ids_min_freq_and_max_size():
    lists = [["b", "a", "a", "c"], ["a", "b", "d"]]  # a:3 b:2 c:1 d:1
    vocab = Vocabulary.build(lists, min_freq=2)
    assert vocab.tokens == ["<pad>", "<unk>", "<bos>", "<eos>", "a", "b"]
    assert vocab.encode(["a", "c", "zzz"]) == [4, 1, 1]
    assert vocab.encode(["b"], add_bos=True, add_eos=True) == [2, 5, 3]
    assert vocab.decode([2, 4, 1, 3, 0], skip_special=True) == ["a", "<unk>"]
    assert Vocabulary.build(lists, min_freq=1).tokens[4:] == ["a", "b", "c", "d"]  # ties: alphabetical
    assert len(Vocabulary.build(lists, max_size=5)) == 5 and "a" in Vocabulary.build(lists, max_size=5)
    assert vocab.unknown_rate([["a", "x"], ["y", "b"]]) == 0.5


def test_vocabulary_round_trip_and_bad_settings():
    vocab = Vocabulary.build([["x", "y", "y"]])
    again = Vocabulary.from_dict(json.loads(json.dumps(vocab.to_dict())))
    assert again.tokens == vocab.tokens and again.counts == vocab.counts
    with pytest.raises(ConfigError, match="min_freq: expected an integer >= 1, got 0"):
        Vocabulary.build([["x"]], min_freq=0)
    with pytest.raises(ConfigError, match="max_size"):
        Vocabulary.build([["x"]], max_size=3)
    with pytest.raises(DataError, match="decode: id"):
        vocab.decode([99])
