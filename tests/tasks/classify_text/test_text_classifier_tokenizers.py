"""TextClassifier with the char and BPE tokenizers and with loaded word vectors."""

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit.errors import DataError
from rnnkit.tasks.classify_text import TextClassifier

TEXTS = ["good tea", "bad tea", "good coffee", "bad coffee", "really good", "really bad"] * 6
LABELS = ["pos", "neg"] * 18
SMALL = dict(hidden_size=8, embedding_dim=8, attention_size=4, min_freq=1, epochs=3, patience=3,
             dropout=0.0, lr=5e-3)


@pytest.mark.parametrize("tokenizer", ["char", "bpe"])
def test_other_tokenizers_fit_save_and_load(tokenizer, tmp_path):
    clf = TextClassifier(tokenizer=tokenizer, bpe_vocab_size=40, **SMALL).fit(TEXTS, LABELS)
    loaded = rnnkit.load(clf.save(tmp_path / "m.rnnkit"))
    probe = ["good tea!", "unseen zebra words"]
    np.testing.assert_array_equal(loaded.predict_proba(probe), clf.predict_proba(probe))
    assert loaded.encode(probe) == clf.encode(probe)
    tokens = [t for t, _ in clf.explain("good tea")]
    assert tokens == (list("good tea") if tokenizer == "char" else clf.encoder_.tokenizer.tokenize("good tea"))


def test_word_vectors_are_loaded_frozen_and_coverage_is_reported(tmp_path):
    path = tmp_path / "vectors.txt"
    path.write_text("good 1 0 0 0\nbad -1 0 0 0\nzebra 0 1 0 0\n", encoding="utf-8")
    clf = TextClassifier(**{**SMALL, "embedding_dim": None}, embeddings=str(path),
                         freeze_embeddings=True)
    with pytest.warns(UserWarning, match="cover only 40% of the vocabulary"):
        clf.fit(TEXTS, LABELS)  # good, bad of good, tea, bad, coffee, really
    assert clf.embedding_coverage_ == pytest.approx(2 / 5)
    W = clf.model_.embedding.weight
    row = clf.encoder_.vocab.index["good"]
    assert W.shape[1] == 4 and torch.equal(W[row], torch.tensor([1.0, 0, 0, 0]))  # frozen
    with pytest.raises(DataError, match="dimension: expected 8, got 4"):
        TextClassifier(**SMALL, embeddings=str(path)).fit(TEXTS, LABELS)


def test_read_texts_from_a_table_with_splits_and_multi_labels(tmp_path):
    from rnnkit.tasks.classify_text.datasets import read_texts

    path = tmp_path / "t.csv"
    path.write_text("text,label,split\ngood tea,taste|price,train\nbad,,test\n", encoding="utf-8")
    assert read_texts(path, split="train") == (["good tea"], ["taste|price"])
    assert read_texts(path, label_sep="|")[1] == [["taste", "price"], []]
    with pytest.raises(DataError, match="unknown column 'review'"):
        read_texts(path, text="review")
