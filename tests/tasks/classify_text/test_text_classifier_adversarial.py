"""TextClassifier(adversarial=eps): each batch also fitted with its embeddings moved eps
per token (on average) along the loss gradient (Miyato et al. 2017)."""

import math

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.nn.functional as F
from test_text_classifier import SMALL, reviews
from torch.nn.parallel import DistributedDataParallel

import rnnkit
from rnnkit.errors import ConfigError
from rnnkit.tasks.classify_text import TextClassifier
from rnnkit.tasks.classify_text.model import TextClassifierNet
from rnnkit.tasks.classify_text.training import adversarial_loss, make_loss


def setup():
    torch.manual_seed(0)
    net = TextClassifierNet(vocab_size=30, n_classes=2, embedding_dim=6, hidden_size=5, attention_size=4)
    ids = torch.tensor([[4, 5, 6, 7], [8, 9, 0, 0], [10, 11, 12, 0]])  # (N, L) padded with 0
    return net.eval(), (ids, torch.tensor([4, 2, 3]), torch.tensor([0, 1, 1]))


def test_the_loss_is_clean_plus_the_loss_at_the_worst_move_written_out():
    net, (ids, lengths, y) = setup()
    eps = 0.3
    got = adversarial_loss(make_loss(False, None), eps)(net, (ids, lengths, y))
    e = net.embedding(ids).detach().requires_grad_(True)
    clean = F.cross_entropy(net.from_embedded(e, lengths), y)
    g, = torch.autograd.grad(clean, e)
    r = torch.zeros_like(e)
    for n, T in enumerate(lengths.tolist()):
        g_n = g[n, :T]
        r[n, :T] = eps * math.sqrt(T) * g_n / g_n.norm()
        assert abs(float(r[n].norm()) - eps * math.sqrt(T)) < 1e-5  # eps per token on average
    assert (r[0:1].abs().sum() > 0) and (r[1, 2:] == 0).all() and (r[2, 3:] == 0).all()  # no move at padding
    moved = F.cross_entropy(net.from_embedded(e + r, lengths), y)
    torch.testing.assert_close(got, clean + moved)
    assert moved > clean  # to first order the move is uphill


def test_gradients_flow_through_both_terms_not_through_the_move():
    net, batch = setup()
    adversarial_loss(make_loss(False, None), 0.3)(net, batch).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters())


def test_adversarial_fit_learns_and_saves(tmp_path):
    texts, labels = reviews(160, seed=0)
    clf = TextClassifier(**{**SMALL, "epochs": 8}, adversarial=0.5, seed=0).fit(texts, labels)
    assert clf.score(*reviews(60, seed=1)) >= 0.9
    loaded = rnnkit.load(clf.save(tmp_path / "adv.rnnkit"))
    assert loaded.config.adversarial == 0.5
    plain = TextClassifier(**{**SMALL, "epochs": 8}, seed=0).fit(texts, labels)
    probe = reviews(10, seed=2)[0]
    assert not np.allclose(plain.predict_proba(probe), clf.predict_proba(probe))  # it changes training


def test_frozen_embeddings_are_still_moved_and_stay_frozen():
    net, batch = setup()
    net.embedding.weight.requires_grad_(False)
    before = net.embedding.weight.clone()
    loss = adversarial_loss(make_loss(False, None), 0.3)(net, batch)
    loss.backward()
    assert net.embedding.weight.grad is None and torch.equal(net.embedding.weight, before)
    assert net.head.weight.grad is not None
    net.embedding.weight.requires_grad_(True)
    torch.testing.assert_close(loss, adversarial_loss(make_loss(False, None), 0.3)(net, batch))


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf"), "0.5", True])
def test_bad_adversarial_values_are_refused(bad):
    with pytest.raises(ConfigError, match="adversarial"):
        TextClassifier(adversarial=bad).fit(*reviews(20, seed=0))


def test_under_ddp_it_is_refused_with_the_fix(tmp_path):
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'pg'}", rank=0, world_size=1)
    try:
        net, batch = setup()
        with pytest.raises(ConfigError, match="adversarial=0 under torchrun"):
            adversarial_loss(make_loss(False, None), 0.3)(DistributedDataParallel(net), batch)
    finally:
        dist.destroy_process_group()
