"""Seq2Seq.log_likelihood: the mean log-probability per target token (<eos> included) of
each pair, with teacher forcing; what a ChatModel reranks by."""

import math

import numpy as np
import pytest
from seq2seq_data import reversal_pairs

from rnnkit.errors import DataError


def test_it_prefers_the_trained_output(reversal_model):
    src, tgt = reversal_pairs(40, seed=11)
    right = reversal_model.log_likelihood(src, tgt)
    wrong = reversal_model.log_likelihood(src, src)  # the source unreversed
    assert right.shape == (40,) and right.dtype == np.float64
    assert (right <= 0).all() and np.isfinite(right).all()
    palindromes = np.array([s == t for s, t in zip(src, tgt)])
    assert (right[~palindromes] > wrong[~palindromes]).mean() >= 0.9
    assert right.mean() > -0.5 > wrong.mean()


def test_it_agrees_with_perplexity(reversal_model):
    src, tgt = reversal_pairs(30, seed=12)
    ll = reversal_model.log_likelihood(src, tgt)
    tokens = np.array([len(t.split()) + 1 for t in tgt])  # reply tokens and <eos>
    expected = math.exp(-(ll * tokens).sum() / tokens.sum())
    assert reversal_model.perplexity(src, tgt) == pytest.approx(expected, rel=1e-6)


def test_a_pair_scores_the_same_alone_and_in_a_batch(reversal_model):
    src, tgt = reversal_pairs(25, seed=13)
    batch = reversal_model.log_likelihood(src, tgt)
    alone = [reversal_model.log_likelihood([s], [t])[0] for s, t in zip(src[:5], tgt[:5])]
    np.testing.assert_allclose(batch[:5], alone, atol=1e-5)


def test_misaligned_pairs_are_one_data_error(reversal_model):
    with pytest.raises(DataError, match=r"Seq2Seq.log_likelihood: targets: expected one per source \(2\), got 1"):
        reversal_model.log_likelihood(["a b", "c d"], ["b a"])
