"""TextClassifier: a synthetic task with a known answer, padding invariance, attention
weights, save/load, multi-label, class weights and the errors users meet."""


import numpy as np
import pytest
import torch

import rnnkit
from rnnkit.bundle import read_bundle
from rnnkit.data.text import pad_ids
from rnnkit.errors import ConfigError, DataError, NotFittedError
from rnnkit.tasks.classify_text import TextClassifier
from rnnkit.tasks.classify_text.training import make_loss
from rnnkit.tasks.classify_text.weights import loss_weights

FILLER = "the a food taste item box price it was is very quite really ordered from store".split()
SMALL = dict(hidden_size=12, embedding_dim=12, attention_size=8, min_freq=1, epochs=12,
             patience=12, batch_size=16, dropout=0.0, lr=5e-3)


def reviews(n, seed, cue=("good", "bad")):
    """Known answer: the label is "pos" when the text holds the word ``cue[0]``, "neg" when it
    holds ``cue[1]``; the rest is random filler of random length."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        words = list(rng.choice(FILLER, int(rng.integers(3, 15))))
        label = "pos" if i % 2 == 0 else "neg"
        words.insert(int(rng.integers(0, len(words) + 1)), cue[0] if label == "pos" else cue[1])
        texts.append(" ".join(words))
        labels.append(label)
    return texts, labels


@pytest.fixture(scope="module")
def fitted():
    texts, labels = reviews(240, seed=0)
    return TextClassifier(**SMALL, seed=0).fit(texts, labels)


def test_learns_the_cue_word_and_reports_the_baseline(fitted):
    texts, labels = reviews(100, seed=1)
    report = fitted.evaluate(texts, labels)
    assert list(report.table.index) == ["rnnkit", "tfidf_logreg"]
    assert list(report.table.columns) == ["accuracy", "macro_f1"]
    assert report.table.loc["rnnkit", "accuracy"] >= 0.95
    assert report.confusion["rnnkit"].to_numpy().sum() == 100
    assert list(fitted.classes_) == ["neg", "pos"] and not fitted.multilabel_
    assert fitted.metrics_["rnnkit"]["accuracy"] == report.table.loc["rnnkit", "accuracy"]


def test_predict_proba_rows_sum_to_one_and_predict_is_their_argmax(fitted):
    texts, _ = reviews(20, seed=2)
    proba = fitted.predict_proba(texts)
    assert proba.shape == (20, 2)
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-9)
    np.testing.assert_array_equal(fitted.predict(texts), fitted.classes_[proba.argmax(1)])
    np.testing.assert_array_equal(fitted.predict_proba_ids(fitted.encode(texts)), proba)


def test_padding_does_not_change_a_prediction(fitted):
    short = "good item"
    longer = [" ".join(["the very quite really"] * k) + " bad" for k in (3, 5, 8)]
    alone = fitted.predict_proba([short])[0]
    in_batch = fitted.predict_proba(longer + [short])[-1]  # one padded batch of length 33
    np.testing.assert_allclose(in_batch, alone, atol=1e-6)
    ids, lengths = pad_ids(fitted.encode(longer + [short]))
    assert ids.shape[1] > lengths[-1]  # the short text really was padded
    with torch.no_grad():
        logits = fitted.model_(ids, lengths)
    np.testing.assert_allclose(torch.softmax(logits.double(), 1)[-1].numpy(), alone, atol=1e-6)


def test_explain_gives_one_weight_per_token_summing_to_one(fitted):
    pairs = fitted.explain("the box was good, really")
    assert [t for t, _ in pairs] == ["the", "box", "was", "good", ",", "really"]  # "," is unknown
    weights = np.array([w for _, w in pairs])
    assert weights.sum() == pytest.approx(1.0, abs=1e-9) and (weights >= 0).all()
    assert pairs[int(weights.argmax())][0] == "good"  # attention finds the cue word


def test_save_load_gives_identical_probabilities_and_keeps_the_text_state(fitted, tmp_path):
    texts, labels = reviews(30, seed=3)
    path = fitted.save(tmp_path / "reviews.rnnkit")
    loaded = rnnkit.load(path)
    assert isinstance(loaded, TextClassifier)
    np.testing.assert_array_equal(loaded.predict_proba(texts), fitted.predict_proba(texts))
    assert loaded.encoder_.vocab.tokens == fitted.encoder_.vocab.tokens
    assert loaded.explain(texts[0]) == fitted.explain(texts[0])
    pre = read_bundle(path).preprocessing
    stats = pre["input_stats"]
    assert set(stats) == {"tokens", "unknown_rate"} and set(stats["tokens"]) == {"mean", "std"}
    counts = [len(t.split()) for t in reviews(240, seed=0)[0]]
    assert stats["tokens"]["mean"] == pytest.approx(np.mean(counts))
    assert stats["unknown_rate"] == 0.0  # min_freq=1: every training token is known
    assert pre["tokenizer"]["kind"] == "word" and pre["classes"] == ["neg", "pos"]
    table = loaded.evaluate(texts, labels).table  # the baseline is refitted from the kept texts
    assert table.loc["tfidf_logreg", "accuracy"] == fitted.evaluate(texts, labels).table.loc["tfidf_logreg", "accuracy"]


def test_unknown_only_text_still_predicts_with_a_warning(fitted):
    with pytest.warns(UserWarning, match=r"1 of 2 texts \(texts\[1\]\) have no token in the vocabulary"):
        proba = fitted.predict_proba(["good", "zzz qqq xxx"])
    assert proba.shape == (2, 2) and np.isfinite(proba).all()


def test_empty_and_non_str_texts_are_clear_errors(fitted):
    with pytest.raises(DataError, match=r"predict_proba: texts\[1\]: expected a text with at least one token"):
        fitted.predict_proba(["good", "   "])
    with pytest.raises(DataError, match=r"texts\[1\]: expected a str, got NaN"):
        fitted.predict([("good"), float("nan")])
    with pytest.raises(DataError, match="wrap it in a list"):
        fitted.predict("good")


def test_overlong_texts_truncate_with_one_warning_or_fail():
    texts, labels = reviews(40, seed=4)
    long_text = " ".join(["good"] * 30)
    clf = TextClassifier(**{**SMALL, "epochs": 1}, max_length=10).fit(texts, labels)
    with pytest.warns(UserWarning, match="1 of 2 texts are longer than max_length=10") as record:
        clf.predict([long_text, "good"])
    assert len([w for w in record if "max_length" in str(w.message)]) == 1
    assert len(clf.encode([long_text])[0]) == 10 and len(clf.explain(long_text)) == 10
    strict = clf.clone().set_params(overlong="error", max_length=20)
    with pytest.raises(DataError, match="expected at most max_length=20 tokens, got 30"):
        strict.fit(texts + [long_text], labels + ["pos"])


def test_bad_labels_and_settings_are_clear_errors():
    texts, labels = reviews(10, seed=5)
    with pytest.raises(DataError, match=r"y\[2\]: expected a label, got nan"):
        TextClassifier(**SMALL).fit(texts, labels[:2] + [float("nan")] + labels[3:])
    with pytest.raises(DataError, match="expected at least 2 classes, got 1 class"):
        TextClassifier(**SMALL).fit(texts, ["pos"] * 10)
    with pytest.raises(DataError, match=r"labels\[1\]: expected one form"):
        TextClassifier(**SMALL).fit(texts[:2], [["pos"], "neg"])
    with pytest.raises(ConfigError, match="did you mean 'hidden_size'"):
        TextClassifier(hiden_size=3)
    with pytest.raises(ConfigError, match="did you mean 'bpe'"):
        TextClassifier(tokenizer="bpee").fit(texts, labels)
    with pytest.raises(ConfigError, match=r"class_weight key 'good'"):
        TextClassifier(**SMALL, class_weight={"good": 2.0}).fit(texts, labels)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        TextClassifier().predict(["good"])


def test_class_weight_known_answers():
    classes = np.array(["a", "b"])
    codes = np.array([0, 0, 0, 1])
    np.testing.assert_allclose(loss_weights("balanced", classes, codes).numpy(), [4 / 6, 4 / 2])
    np.testing.assert_allclose(loss_weights({"b": 3.0}, classes, codes).numpy(), [1.0, 3.0])
    assert loss_weights(None, classes, codes) is None
    multi = np.array([[1, 0], [1, 1], [1, 0], [0, 0]], dtype=np.float32)  # positives 3 and 1
    np.testing.assert_allclose(loss_weights("balanced", classes, multi).numpy(), [1 / 3, 3.0])
    logits, y = torch.tensor([[2.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 1])
    w = torch.tensor([1.0, 3.0])
    manual = (1 * torch.log_softmax(logits, 1)[0, 0] + 3 * torch.log_softmax(logits, 1)[1, 1]) / -4
    assert make_loss(False, w)(logits, y) == pytest.approx(float(manual))


def test_balanced_class_weight_helps_a_rare_class():
    texts, labels = reviews(200, seed=6)
    keep = [i for i, lab in enumerate(labels) if lab == "pos" or i % 10 == 1]  # 100 pos, 10 neg
    texts, labels = [texts[i] for i in keep], [labels[i] for i in keep]
    test_texts, test_labels = reviews(60, seed=7)
    settings = {**SMALL, "epochs": 6, "val_fraction": 0.0}
    plain = TextClassifier(**settings).fit(texts, labels)
    weighted = TextClassifier(**settings, class_weight="balanced").fit(texts, labels)
    f1 = {name: clf.evaluate(test_texts, test_labels, baselines=()).table.loc["rnnkit", "macro_f1"]
          for name, clf in (("plain", plain), ("weighted", weighted))}
    assert f1["weighted"] > f1["plain"]


def test_multilabel_learns_each_label_and_round_trips(tmp_path):
    rng = np.random.default_rng(8)
    texts, labels = [], []
    for i in range(240):
        words = list(rng.choice(FILLER, int(rng.integers(3, 12))))
        tags = [t for t, on in (("tasty", i % 2 == 0), ("cheap", i % 3 == 0)) if on]
        words += [{"tasty": "delicious", "cheap": "bargain"}[t] for t in tags]
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(tags)
    clf = TextClassifier(**{**SMALL, "epochs": 15, "patience": 15}).fit(texts[:200], labels[:200])
    assert clf.multilabel_ and list(clf.classes_) == ["cheap", "tasty"]
    report = clf.evaluate(texts[200:], labels[200:])
    assert report.table.loc["rnnkit", "accuracy"] >= 0.9  # subset accuracy
    assert list(report.confusion["rnnkit"].columns) == ["tp", "fp", "fn", "tn"]
    predicted = clf.predict(["the delicious bargain box", "the box"])
    assert predicted == [["cheap", "tasty"], []]
    loaded = rnnkit.load(clf.save(tmp_path / "tags.rnnkit"))
    np.testing.assert_array_equal(loaded.predict_proba(texts[200:]), clf.predict_proba(texts[200:]))
    assert loaded.predict(["the delicious bargain box"]) == [["cheap", "tasty"]]
