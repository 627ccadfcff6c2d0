"""The chat task's parts with known answers: the in-batch loss, the candidates and ranks of
Recall@k, maximal marginal relevance, the bank filters and the context's tokens."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rnnkit.data.text.encoder import TextEncoder
from rnnkit.errors import DataError
from rnnkit.tasks.chat.bank import ReplyBank, build_bank
from rnnkit.tasks.chat.config import ChatConfig
from rnnkit.tasks.chat.metrics import draw_candidates, ranks, recall_at, reply_keys
from rnnkit.tasks.chat.selection import combine, mmr, sample_keys
from rnnkit.tasks.chat.training import in_batch_loss
from rnnkit.tasks.chat.turns import SEP, context_ids, fit_encoder, split_turns


def test_in_batch_loss_masks_equal_replies():
    scores = torch.zeros(3, 3)
    keys = torch.tensor([0, 0, 1])  # pairs 0 and 1 have the same reply: not negatives
    expected = (math.log(2) + math.log(2) + math.log(3)) / 3
    assert float(in_batch_loss(scores, keys, symmetric=False)) == pytest.approx(expected)
    assert float(in_batch_loss(scores, keys, symmetric=True)) == pytest.approx(expected)
    sharp = torch.eye(3) * 50
    assert float(in_batch_loss(sharp, torch.tensor([0, 1, 2]), symmetric=True)) < 1e-6


def test_candidates_are_the_truth_then_distinct_other_replies():
    replies = [f"reply {i % 30}" for i in range(200)] + ["Reply  0"]  # "Reply  0" is "reply 0"
    keys = reply_keys(replies)
    assert keys[-1] == keys[0]
    cand = draw_candidates(keys, 10, seed=4)
    assert cand.shape == (201, 10) and (cand[:, 0] == np.arange(201)).all()
    k = keys[cand]
    assert all(len(set(row)) == 10 for row in k)  # distinct texts, none the true one
    np.testing.assert_array_equal(cand, draw_candidates(keys, 10, seed=4))
    with pytest.raises(DataError, match="at least 10 distinct replies"):
        draw_candidates(reply_keys(["a", "b", "a"] * 5), 10, seed=0)


def test_ranks_break_ties_at_random():
    rng = np.random.default_rng(0)
    assert list(ranks(np.array([[3.0, 1, 2], [1.0, 2, 3], [2.0, 2, 1]]), rng)[:2]) == [0, 2]
    flat = np.zeros((20000, 10))  # every candidate alike: recall@k = k / n on average
    recall = recall_at(flat, (1, 5), np.random.default_rng(1))
    assert recall[1] == pytest.approx(0.1, abs=0.01) and recall[5] == pytest.approx(0.5, abs=0.01)


def test_mmr_skips_a_near_duplicate():
    v = np.array([[1.0, 0, 0], [0.999, 0.0447, 0], [0.6, 0.8, 0]])
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    relevance = np.array([0.9, 0.89, 0.7])
    assert mmr(relevance, v, 3, 0.0) == [0, 1, 2]
    assert mmr(relevance, v, 2, 0.5) == [0, 2]


def test_sampling_keys_follow_the_softmax():
    scores = np.log(np.array([0.6, 0.3, 0.1]))
    firsts = [int(np.argmax(sample_keys(scores, 1.0, seed))) for seed in range(4000)]
    np.testing.assert_allclose(np.bincount(firsts, minlength=3) / 4000, [0.6, 0.3, 0.1], atol=0.03)


def test_combine_is_log_softmax_plus_weighted_likelihood():
    out = combine(np.array([2.0, 0.0]), np.array([-1.0, -3.0]), 0.5)
    lse = math.log(math.exp(2) + 1)
    np.testing.assert_allclose(out, [2 - lse - 0.5, -lse - 1.5])


@pytest.fixture(scope="module")
def encoder() -> TextEncoder:
    turns = [["hello there", "what is the colour of the sky"]] * 2
    return fit_encoder(turns, ["the sky is blue", "blue"], tokenizer="word", lowercase=True,
                       bpe_vocab_size=100, min_freq=1, max_vocab=None)


def test_the_context_keeps_its_last_tokens(encoder):
    assert SEP in encoder.vocab
    ids = context_ids(encoder, ["hello there", "sky blue"], 3)
    assert encoder.vocab.decode(ids) == [SEP, "sky", "blue"]
    assert encoder.vocab.decode(context_ids(encoder, ["hello there", "sky"], 10)) == ["hello", "there", SEP, "sky"]
    assert split_turns("a <sep> b <sep> c", ["z"], "w", keep=1) == ["b", "c"]
    assert split_turns("c", None, "w", keep=0) == ["c"]


def test_the_bank_filters_and_deduplicates(encoder):
    cfg = ChatConfig(bank_max_words=3, bank_max_unknown=0.4)
    texts = ["the sky is blue", "The  sky is", "the sky is", "1234", "?!", "blue blue", "zzz qqq blue"]
    assert build_bank(texts, encoder, cfg, "w") == ["The  sky is", "blue blue"]
    assert build_bank(texts, encoder, ChatConfig(bank_max_words=3, bank_size=1), "w") == ["The  sky is"]
    with pytest.raises(DataError, match="w: bank: expected at least one reply"):
        build_bank(["1234"], encoder, cfg, "w")


def test_the_bank_search_is_exact_across_chunks(monkeypatch):
    import rnnkit.tasks.chat.bank as bank_module

    monkeypatch.setattr(bank_module, "CHUNK", 7)
    g = torch.Generator().manual_seed(0)
    vectors = torch.nn.functional.normalize(torch.randn(50, 4, generator=g), dim=1)
    queries = torch.nn.functional.normalize(torch.randn(3, 4, generator=g), dim=1)
    scores, idx = ReplyBank([str(i) for i in range(50)], vectors).search(queries, 5, scale=2.0)
    want_s, want_i = (2.0 * queries @ vectors.T).topk(5, dim=1)
    torch.testing.assert_close(scores, want_s)
    assert torch.equal(idx, want_i)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("pooling", ["max", "mean"])
def test_a_text_encodes_the_same_alone_and_padded(bidirectional, pooling):
    from rnnkit.tasks.chat.model import DualEncoder

    torch.manual_seed(0)
    net = DualEncoder(vocab_size=20, embedding_dim=6, hidden_size=5, vector_size=4,
                      bidirectional=bidirectional, pooling=pooling, batch_norm=True).eval()
    ids = torch.tensor([[4, 5, 6, 0, 0], [7, 8, 9, 10, 11]])
    lengths = torch.tensor([3, 5])
    both = net.encode_context(ids, lengths)
    alone = net.encode_context(ids[:1, :3], lengths[:1])
    torch.testing.assert_close(both[:1], alone)
    torch.testing.assert_close(both.norm(dim=1), torch.ones(2))
