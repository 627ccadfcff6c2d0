"""Coverage: the attention sees the attention each source token has had (Tu et al. 2016),
and the coverage loss penalises attending a source token again (See et al. 2017)."""

import warnings

import pytest
import torch
from seq2seq_data import distinct_reversal_pairs

import rnnkit
from rnnkit.errors import ConfigError
from rnnkit.tasks.seq2seq import Seq2Seq
from rnnkit.tasks.seq2seq.attention import BahdanauAttention, LuongAttention
from rnnkit.tasks.seq2seq.model import Seq2SeqNet
from rnnkit.tasks.seq2seq.training import coverage_loss, make_batch


def test_luong_coverage_term_known_answer():
    torch.manual_seed(0)
    att = LuongAttention(3, 3, coverage=True)
    keys = torch.randn(2, 4, 3)
    q = torch.randn(2, 3)
    pad = torch.tensor([[False] * 4, [False, False, True, True]])
    coverage = torch.tensor([[1.0, 0.0, 0.5, 0.0], [0.2, 0.8, 0.0, 0.0]])
    with torch.no_grad():
        att.u.weight.copy_(torch.tensor([[0.5, -1.0, 2.0]]))
        att.u.bias.fill_(-0.3)
    _, a = att(q, keys, att.prepare(keys), pad, coverage)
    plain = torch.einsum("nq,nsq->ns", q, att.W(keys))
    gate = q @ torch.tensor([0.5, -1.0, 2.0]) - 0.3  # u^T q + b, (N,)
    expected = torch.softmax((plain + gate[:, None] * coverage).masked_fill(pad, float("-inf")), -1)
    torch.testing.assert_close(a, expected)
    assert float(a[1, 2:].detach().abs().sum()) == 0.0  # padding still gets nothing


def test_bahdanau_coverage_term_known_answer():
    torch.manual_seed(1)
    att = BahdanauAttention(3, 5, 4, coverage=True)
    with torch.no_grad():
        att.w_c.copy_(torch.tensor([1.0, -2.0, 0.5, 0.0]))
    keys, q = torch.randn(1, 3, 5), torch.randn(1, 3)
    coverage = torch.tensor([[0.0, 1.0, 2.0]])
    _, a = att(q, keys, att.prepare(keys), torch.zeros(1, 3, dtype=torch.bool), coverage)
    hidden = att.W_q(q)[:, None] + att.W_k(keys) + coverage[:, :, None] * att.w_c  # (1, S, A)
    expected = torch.softmax(att.v(torch.tanh(hidden)).squeeze(-1), -1)
    torch.testing.assert_close(a, expected)


@pytest.mark.parametrize("kind", [BahdanauAttention, LuongAttention])
def test_coverage_starts_as_the_plain_attention_and_needs_the_coverage(kind):
    torch.manual_seed(2)
    args = (3, 3, 4) if kind is BahdanauAttention else (3, 3)
    plain, covered = kind(*args), kind(*args, coverage=True)
    covered.load_state_dict(plain.state_dict(), strict=False)  # the coverage weights start at 0
    keys, q, pad = torch.randn(2, 4, 3), torch.randn(2, 3), torch.zeros(2, 4, dtype=torch.bool)
    _, a_plain = plain(q, keys, plain.prepare(keys), pad)
    _, a_cov = covered(q, keys, covered.prepare(keys), pad, torch.rand(2, 4))
    torch.testing.assert_close(a_cov, a_plain)
    with pytest.raises(ValueError, match="coverage"):
        covered(q, keys, covered.prepare(keys), pad)


@pytest.mark.parametrize("attention", ["luong", "bahdanau"])
def test_network_carries_the_sum_of_past_attention(attention):
    torch.manual_seed(3)
    net = Seq2SeqNet(source_vocab=9, target_vocab=7, embedding_dim=4, hidden_size=6,
                     attention=attention, coverage=True).eval()
    with torch.no_grad():  # make the coverage matter, so that a wrong sum changes the output
        if attention == "luong":
            net.attention.u.bias.fill_(-3.0)
        else:
            net.attention.w_c.normal_()
    src = torch.tensor([[4, 5, 6, 7], [8, 4, 0, 0]])
    lengths = torch.tensor([4, 2])
    state = net.encode(src, lengths)
    assert float(state.coverage.abs().sum()) == 0.0  # C_0 = 0
    total = torch.zeros(2, 4)
    prev = torch.tensor([1, 1])
    for _ in range(3):
        _, state, a = net.step(prev, state)
        total = total + a
        prev = torch.tensor([4, 5])
    torch.testing.assert_close(state.coverage, total)
    torch.testing.assert_close(state.coverage.sum(-1), torch.full((2,), 3.0))  # each step sums to 1
    assert float(state.coverage[1, 2:].abs().sum()) == 0.0
    # the padded second source decodes exactly as it does alone
    alone = net.encode(src[1:, :2], lengths[1:])
    prev = torch.tensor([1])
    logits_alone = []
    for _ in range(3):
        z, alone, _ = net.step(prev, alone)
        logits_alone.append(z)
        prev = torch.tensor([5])
    batch, prev, logits_batch = net.encode(src, lengths), torch.tensor([1, 1]), []
    for _ in range(3):
        z, batch, _ = net.step(prev, batch)
        logits_batch.append(z[1:])
        prev = torch.tensor([4, 5])
    torch.testing.assert_close(torch.stack(logits_batch), torch.stack(logits_alone))
    # beam search's reorder takes the coverage along
    picked = state.select(torch.tensor([1, 1, 0]))
    torch.testing.assert_close(picked.coverage, state.coverage[[1, 1, 0]])


def test_coverage_loss_known_answer():
    # two steps that attend the same token, then one that moves on; the last step is padding
    attention = torch.tensor([[[0.9, 0.1, 0.0], [0.6, 0.4, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]])
    target_out = torch.tensor([[5, 6, 3, 0]])
    # step 1: C = 0 -> 0; step 2: min(.6, .9) + min(.4, .1) = .7; step 3: C = (1.5, .5, 0) -> 0
    torch.testing.assert_close(coverage_loss(attention, target_out), torch.tensor(0.7 / 3))
    assert float(coverage_loss(torch.eye(3)[None], torch.tensor([[4, 5, 3]]))) == 0.0



def _mean_coverage_loss(model, src, tgt):
    xs, ys = model.source_encoder_.encode(src), model.target_encoder_.encode(tgt)
    s, lengths, target_in, target_out = make_batch(xs, ys)
    with torch.no_grad():
        _, a = model.model_.eval()(s, lengths, target_in, return_attention=True)
    return float(coverage_loss(a, target_out))


def test_coverage_model_learns_to_attend_each_word_once(tmp_path):
    src, tgt = distinct_reversal_pairs(300, 0)
    test_src, test_tgt = distinct_reversal_pairs(60, 1)
    settings = dict(hidden_size=32, embedding_dim=16, epochs=10, batch_size=16, lr=5e-3,
                    dropout=0.0, val_fraction=0.0, min_freq=1, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = Seq2Seq(**settings).fit(src, tgt)
        covered = Seq2Seq(**settings, coverage=True, coverage_loss=1.0).fit(src, tgt)
    # measured: plain 0.283, coverage 0.224 (attention mass on source words attended before)
    assert _mean_coverage_loss(covered, test_src, test_tgt) < _mean_coverage_loss(plain, test_src, test_tgt) - 0.03
    out = covered.translate(test_src, beam=3)
    accuracy = sum(o.lower() == r for o, r in zip(out, test_tgt)) / len(test_tgt)
    assert accuracy > 0.6  # measured 0.90 greedy (plain: 0.80)
    loaded = rnnkit.load(covered.save(tmp_path / "cov.rnnkit"))
    assert loaded.config.coverage and loaded.config.coverage_loss == 1.0
    assert loaded.translate(test_src[:10], beam=3) == out[:10]


@pytest.mark.parametrize("bad, message", [
    (dict(coverage="yes"), "True or False"),
    (dict(coverage_loss=-1.0), ">= 0"),
    (dict(coverage_loss="much"), ">= 0"),
])
def test_coverage_settings_are_checked(bad, message):
    with pytest.raises(ConfigError, match=message):
        Seq2Seq(**bad).fit(["a b"], ["b a"])
