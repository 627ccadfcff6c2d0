"""Reranking a ChatModel's replies with a real chat Seq2Seq (its log_likelihood)."""

from __future__ import annotations

import warnings

import pytest
import torch
from chat_data import pairs

import rnnkit
from rnnkit.tasks.chat import ChatModel

SMALL = dict(hidden_size=24, embedding_dim=24, vector_size=24, bidirectional=True, min_freq=1,
             epochs=20, patience=4, pooling="max", batch_norm=True,
             batch_size=32, dropout=0.0, lr=5e-3, progress="none")


@pytest.fixture(scope="module")
def models():
    torch.set_num_threads(1)
    messages, replies = pairs(8, seed=0)
    bot = ChatModel(**SMALL).fit(messages, replies)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        generator = rnnkit.Seq2Seq(hidden_size=32, embedding_dim=16, epochs=15, batch_size=32, lr=5e-3,
                                   dropout=0.0, min_freq=1, val_fraction=0.0, progress="none"
                                   ).fit(messages, replies, dictionary=False)
    return bot, generator


def test_reranked_replies_are_bank_replies_and_on_topic(models):
    bot, generator = models
    out = bot.replies("hi friend <sep> what colour is the snow", k=3, rerank=generator)
    assert len(out) == 3 and all(text in bot.bank_ for text, _ in out)
    assert out[0][0] == "snow is white"
    scores = [s for _, s in out]
    assert scores == sorted(scores, reverse=True) and all(s < 0 for s in scores)  # log-scores


def test_evaluate_reports_the_reranked_row(models):
    bot, generator = models
    messages, replies = pairs(2, seed=3)
    table = bot.evaluate(messages, replies, rerank=generator).table.set_index("method")
    assert list(table.index) == ["rnnkit", "rnnkit+rerank", "tfidf", "random"]
    assert table.loc["rnnkit+rerank", "recall@1"] >= 0.9
