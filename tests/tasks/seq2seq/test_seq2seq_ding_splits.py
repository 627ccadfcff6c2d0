"""ding_pairs on a small file in the dictionary's format: cleaning, splits, the dev split."""

import pytest

from rnnkit.errors import ConfigError
from rnnkit.tasks.seq2seq.datasets import ding_entries, ding_pairs


@pytest.fixture(scope="module")
def ding_file(tmp_path_factory):
    lines = ["# comment line", "Haus {n} :: house"]  # a word entry: not a sentence
    for i in range(300):
        lines.append(f"Satz Nummer {i} ist hier. | Noch ein Satz {i}! :: Sentence number {i} is here. | "
                     f"One more sentence {i}!")
    lines.append("Ich bin müde [ugs.]. :: I'm tired.")
    lines.append("Ich bin so müde. :: I'm tired.")  # shares its English with the line above
    path = tmp_path_factory.mktemp("ding") / "de-en"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_splits_partition_the_sentences_and_keep_groups_whole(ding_file):
    test = ding_pairs("test", path=ding_file, test_fraction=0.2)
    train = ding_pairs("train", path=ding_file, test_fraction=0.2)
    everything = ding_pairs("all", path=ding_file, test_fraction=0.2)
    assert len(everything[0]) == 602 and ("Ich bin müde." , "I'm tired.") in zip(*everything)
    assert sorted(train[0] + test[0]) == sorted(everything[0])
    assert not set(train[1]) & set(test[1]) and 60 < len(test[0]) < 180
    dev = ding_pairs("dev", path=ding_file, test_fraction=0.2, dev_fraction=0.2)
    rest = ding_pairs("train", path=ding_file, test_fraction=0.2, dev_fraction=0.2)
    assert sorted(rest[0] + dev[0]) == sorted(train[0])  # dev comes out of training only
    assert not set(rest[1]) & set(dev[1]) and len(dev[0]) > 40
    assert ding_pairs("test", path=ding_file, test_fraction=0.2, dev_fraction=0.2) == test


@pytest.mark.parametrize("kwargs, match", [({"split": "dev"}, "dev_fraction"),
                                           ({"split": "valid"}, "split"),
                                           ({"dev_fraction": 0.95}, "dev_fraction")])
def test_bad_split_arguments_are_named(ding_file, kwargs, match):
    with pytest.raises(ConfigError, match=match):
        ding_pairs(path=ding_file, **kwargs)


@pytest.fixture(scope="module")
def entry_file(tmp_path_factory):
    lines = ["Haus {n}; Gebäude {n} :: house; building", "groß :: big / large",
             "ein sehr sehr sehr langer Ausdruck :: a long phrase", "Haus {n} :: house"]
    for i in range(200):  # a word entry on the same line as a sentence
        lines.append(f"Wort{i} {{n}} | Satz Nummer {i} ist hier. :: word{i} | Sentence number {i} is here.")
    path = tmp_path_factory.mktemp("ding_entries") / "de-en"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_word_entries_never_come_from_the_line_of_a_held_out_sentence(entry_file):
    de, en = ding_entries(path=entry_file, test_fraction=0.2, dev_fraction=0.2)
    train = ding_pairs("train", path=entry_file, test_fraction=0.2, dev_fraction=0.2)
    kept = {s.split()[2] for s in train[0]}  # the numbers of the training sentences
    numbered = {d[4:] for d in de if d.startswith("Wort")}
    assert numbered == kept and 60 < len(kept) < 160  # test and dev lines give no entry
    assert ("Haus", "house") in zip(de, en) and de.count("Haus") == 1  # first alternative, once
    assert "groß" not in de and not any("Ausdruck" in d for d in de)  # '/' alternative, too long
    longer = ding_entries(path=entry_file, test_fraction=0.2, dev_fraction=0.2, max_words=6)
    assert longer[0] == de[:1] + ["ein sehr sehr sehr langer Ausdruck"] + de[1:]
    known = ding_entries(path=entry_file, test_fraction=0.2, dev_fraction=0.2,
                         known=(["Das HAUS, und Wort7."], ["The house and word7."]))
    assert list(zip(*known)) == [("Haus", "house")] + ([("Wort7", "word7")] if "7" in kept else [])
    with pytest.raises(ConfigError, match="max_words"):
        ding_entries(path=entry_file, max_words=0)
    with pytest.raises(ConfigError, match="split"):
        ding_entries("test", path=entry_file)
