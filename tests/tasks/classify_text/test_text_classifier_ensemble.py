"""TextClassifier(ensemble=M): M networks with seeds seed..seed+M-1 whose probabilities
are averaged; the ensemble network's known answers, and fit/save/explain/export/inspect
with one."""

import numpy as np
import pytest
import torch
from test_text_classifier import SMALL, reviews

import rnnkit
import rnnkit.tasks.classify_text.estimator as estimator
from rnnkit.errors import ConfigError
from rnnkit.export import to_onnx
from rnnkit.inspect import inspect
from rnnkit.tasks.classify_text import TextClassifier
from rnnkit.tasks.classify_text.model import TextClassifierEnsemble, TextClassifierNet

QUICK = {**SMALL, "epochs": 3}


def nets(n, multilabel=False, seed=0):
    torch.manual_seed(seed)
    members = [TextClassifierNet(vocab_size=20, n_classes=3, embedding_dim=6, hidden_size=5,
                                 attention_size=4) for _ in range(n)]
    return members, TextClassifierEnsemble(members, multilabel).eval()


def batch():
    ids = torch.tensor([[4, 5, 6, 7, 8], [9, 10, 11, 0, 0], [12, 0, 0, 0, 0]])
    return ids, torch.tensor([5, 3, 1])


def test_softmax_of_the_ensemble_logits_is_the_mean_member_probability():
    members, ens = nets(3)
    ids, lengths = batch()
    with torch.no_grad():
        logits, a = ens(ids, lengths, return_attention=True)
        runs = [m.eval()(ids, lengths, return_attention=True) for m in members]
    mean_p = torch.stack([torch.softmax(z, 1) for z, _ in runs]).mean(0)
    torch.testing.assert_close(torch.softmax(logits, 1), mean_p, rtol=0, atol=1e-6)
    torch.testing.assert_close(a, torch.stack([w for _, w in runs]).mean(0))
    assert (a[1, 3:] == 0).all() and (a[2, 1:] == 0).all()  # padding still gets no weight
    torch.testing.assert_close(a.sum(1), torch.ones(3))
    torch.testing.assert_close(ens(ids, lengths), logits)  # without the attention: same logits


def test_multilabel_sigmoid_of_the_ensemble_logits_is_the_mean_member_probability():
    members, ens = nets(2, multilabel=True, seed=1)
    ids, lengths = batch()
    with torch.no_grad():
        logits = ens(ids, lengths)
        mean_q = torch.stack([torch.sigmoid(m.eval()(ids, lengths)) for m in members]).mean(0)
    torch.testing.assert_close(torch.sigmoid(logits), mean_q, rtol=0, atol=1e-6)


def test_saturated_members_average_exactly():
    members, ens = nets(2)
    for m, bias in zip(members, ([100.0, -100.0, -100.0], [-100.0, 100.0, -100.0])):
        with torch.no_grad():  # member 1 sure of class 0, member 2 of class 1
            m.head.weight.zero_()
            m.head.bias.copy_(torch.tensor(bias))
    ids, lengths = batch()
    p = torch.softmax(ens(ids, lengths), 1)
    torch.testing.assert_close(p[:, :2], torch.full((3, 2), 0.5))
    assert torch.isfinite(ens(ids, lengths)).all()


def test_fit_trains_member_m_like_a_classifier_with_seed_plus_m(monkeypatch):
    seeds = []
    real = estimator.train_network

    def spy(model, ids, targets, loss, cfg, out_dir=None, resume=False):
        seeds.append(cfg.seed)
        return real(model, ids, targets, loss, cfg, out_dir, resume)

    monkeypatch.setattr(estimator, "train_network", spy)
    texts, labels = reviews(80, seed=0)
    ens = TextClassifier(**QUICK, seed=5, ensemble=3).fit(texts, labels)
    assert seeds == [5, 6, 7]
    assert isinstance(ens.model_, TextClassifierEnsemble) and len(ens.model_.members) == 3
    assert len(ens.histories_) == 3 and ens.history_ is ens.histories_[0]
    probe = reviews(12, seed=1)[0]
    singles = [TextClassifier(**QUICK, seed=s).fit(texts, labels).predict_proba(probe) for s in (5, 6, 7)]
    np.testing.assert_allclose(ens.predict_proba(probe), np.mean(singles, 0), atol=1e-6)
    assert not np.allclose(singles[0], singles[1])  # the members differ


def test_ensemble_learns_saves_explains_and_resumes(tmp_path):
    texts, labels = reviews(160, seed=2)
    out = tmp_path / "run"
    ens = TextClassifier(**{**SMALL, "epochs": 6}, ensemble=2, seed=0).fit(texts, labels, out_dir=out)
    assert (out / "member1" / "checkpoint.pt").exists() and (out / "member2" / "checkpoint.pt").exists()
    test = reviews(60, seed=3)
    assert ens.score(*test) >= 0.9
    loaded = rnnkit.load(ens.save(tmp_path / "ens.rnnkit"))
    assert loaded.config.ensemble == 2 and isinstance(loaded.model_, TextClassifierEnsemble)
    np.testing.assert_array_equal(loaded.predict_proba(test[0]), ens.predict_proba(test[0]))
    words, weights = zip(*ens.explain("the box was good and the price ok"))
    assert abs(sum(weights) - 1) < 1e-9 and words[int(np.argmax(weights))] == "good"
    resumed = TextClassifier(**{**SMALL, "epochs": 6}, ensemble=2, seed=0).fit(texts, labels, out_dir=out,
                                                                              resume=True)
    np.testing.assert_allclose(resumed.predict_proba(test[0]), ens.predict_proba(test[0]), atol=1e-6)


def test_multilabel_ensemble_fits_and_thresholds():
    texts, single = reviews(80, seed=4)
    labels = [[y] + (["long"] if len(t.split()) > 8 else []) for t, y in zip(texts, single)]
    ens = TextClassifier(**QUICK, ensemble=2).fit(texts, labels)
    proba = ens.predict_proba(texts[:10])
    assert proba.shape == (10, 3) and ((proba > 0) & (proba < 1)).all()
    assert all(isinstance(p, list) for p in ens.predict(texts[:10]))


def test_onnx_export_and_inspect_of_an_ensemble(tmp_path):
    texts, labels = reviews(60, seed=5)
    ens = TextClassifier(**QUICK, ensemble=2).fit(texts, labels)
    report = to_onnx(ens, tmp_path / "ens.onnx")
    assert report.max_abs_diff <= 1e-4 and list(report.inputs) == ["ids", "lengths"]
    text = "the box was really good"
    insp = inspect(ens, text)
    assert "network 1 of the 2 in the ensemble" in insp.captions["gradient"]
    explained = np.array([w for _, w in ens.explain(text)])
    np.testing.assert_allclose(insp.arrays["attention.weights"], explained, atol=1e-6)


@pytest.mark.parametrize("bad", [0, -1, 2.0, "3", True])
def test_bad_ensemble_sizes_are_refused(bad):
    with pytest.raises(ConfigError, match="ensemble"):
        TextClassifier(ensemble=bad).fit(*reviews(20, seed=0))
