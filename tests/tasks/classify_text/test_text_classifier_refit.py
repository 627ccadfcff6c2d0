"""TextClassifier(refit=True): after early stopping on the held-out share, a fresh network
is trained on *every* text for the best epoch count, without validation."""

import pytest
from test_text_classifier import SMALL, reviews

import rnnkit
import rnnkit.tasks.classify_text.estimator as estimator
from rnnkit.errors import ConfigError
from rnnkit.tasks.classify_text import TextClassifier


def test_refit_trains_a_fresh_network_on_every_text_for_the_best_epoch_count(monkeypatch):
    calls = []
    real = estimator.train_network

    def spy(model, ids, targets, loss, cfg, out_dir=None, resume=False):
        history = real(model, ids, targets, loss, cfg, out_dir, resume)
        calls.append(dict(model=model, n=len(ids), val_fraction=cfg.val_fraction, epochs=cfg.epochs,
                          rows=len(history.rows), best=history.best_epoch))
        return history

    monkeypatch.setattr(estimator, "train_network", spy)
    texts, labels = reviews(120, seed=0)
    clf = TextClassifier(**{**SMALL, "epochs": 8, "patience": 2}, refit=True, seed=0).fit(texts, labels)
    first, second = calls
    assert first["val_fraction"] == 0.1 and first["n"] == 120
    assert second["val_fraction"] == 0.0 and second["n"] == 120  # no text held out this time
    assert second["epochs"] == first["best"] == clf.history_.best_epoch and second["rows"] == second["epochs"]
    assert clf.model_ is second["model"] is not first["model"]
    assert clf.history_.rows[0].get("val_loss") is not None  # the early-stopping run's history
    assert clf.score(*reviews(60, seed=1)) >= 0.9


def test_refit_same_seed_same_model_and_saved_like_any(tmp_path):
    texts, labels = reviews(80, seed=2)
    a = TextClassifier(**{**SMALL, "epochs": 3}, refit=True, seed=3).fit(texts, labels)
    b = TextClassifier(**{**SMALL, "epochs": 3}, refit=True, seed=3).fit(texts, labels)
    probe = reviews(10, seed=4)[0]
    assert (a.predict_proba(probe) == b.predict_proba(probe)).all()
    loaded = rnnkit.load(a.save(tmp_path / "m.rnnkit"))
    assert loaded.config.refit and (loaded.predict_proba(probe) == a.predict_proba(probe)).all()


def test_refit_needs_a_validation_share():
    with pytest.raises(ConfigError, match="refit.*val_fraction > 0"):
        TextClassifier(refit=True, val_fraction=0.0).fit(*reviews(20, seed=0))
    with pytest.raises(ConfigError, match="refit"):
        TextClassifier(refit="yes").fit(*reviews(20, seed=0))
