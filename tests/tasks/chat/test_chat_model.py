"""ChatModel on tiny synthetic dialogues (20 topics x paraphrased questions -> one answer):
it learns the right reply, answers only from its bank, and handles odd input in one line."""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from chat_data import ANSWERS, pairs

import rnnkit
from rnnkit.bundle import read_bundle, save_bundle
from rnnkit.errors import BundleError, ConfigError, DataError
from rnnkit.tasks.chat import ChatModel, ChatReport

SMALL = dict(hidden_size=24, embedding_dim=24, vector_size=24, bidirectional=True, min_freq=1,
             epochs=20, patience=4,
             batch_size=32, dropout=0.0, lr=5e-3, progress="none", seed=0)


@pytest.fixture(scope="module")
def bot() -> ChatModel:
    torch.set_num_threads(1)
    messages, replies = pairs(8, seed=0)
    return ChatModel(**SMALL).fit(messages, replies)


def test_it_learns_the_right_reply_and_beats_random(bot):
    messages, replies = pairs(3, seed=1)
    report = bot.evaluate(messages, replies)
    assert isinstance(report, ChatReport)
    table = report.table.set_index("method")
    assert list(report.table.columns) == ["method", "recall@1", "recall@2", "recall@5", "n"]
    assert list(table.index) == ["rnnkit", "tfidf", "random"]
    assert table.loc["rnnkit", "recall@1"] >= 0.9
    assert table.loc["rnnkit", "recall@1"] > table.loc["random", "recall@1"] + 0.5
    assert (table["n"] == 60).all()
    assert bot.score(messages, replies) == table.loc["rnnkit", "recall@1"]
    assert bot.metrics_["rnnkit"]["recall@1"] == table.loc["rnnkit", "recall@1"]
    assert "| rnnkit |" in report.to_markdown()


def test_the_bank_is_the_training_replies_deduplicated(bot):
    assert sorted(bot.bank_) == sorted(ANSWERS)
    assert bot.bank_vectors_.shape == (20, 24)
    np.testing.assert_allclose(bot.bank_vectors_.norm(dim=1).numpy(), 1.0, atol=1e-5)


@pytest.mark.parametrize("message", ["what colour is the sky", "which sound does the cow have",
                                     "hello there <sep> tell me the country of the paris"])
def test_replies_come_from_the_bank_best_first(bot, message):
    out = bot.replies(message, k=5)
    assert len(out) == 5 and all(text in bot.bank_ for text, _ in out)
    scores = [s for _, s in out]
    assert scores == sorted(scores, reverse=True)
    assert bot.reply(message) == out[0][0]


def test_the_reply_follows_the_question(bot):
    assert bot.reply("what colour is the sky") == "the sky is blue"
    assert bot.reply("tokyo country ?", context="good morning") == "tokyo is in japan"


def test_contexts_apart_equal_sep_joined_turns(bot):
    joined = bot.replies("hi friend <sep> cat sound ?", k=3)
    assert bot.replies("cat sound ?", ["hi friend"], k=3) == joined
    assert bot.replies("cat sound ?", "hi friend", k=3) == joined
    # context_turns=1 keeps only the last earlier turn
    assert bot.replies("cat sound ?", ["whatever was said long ago", "hi friend"], k=3) == joined


def test_diversity_picks_distinct_replies():
    messages, replies = pairs(8, seed=0)
    bot = ChatModel(**SMALL).fit(messages, replies, bank=ANSWERS + ["the sky is blue!", "The sky  is BLUE"])
    assert len(bot.bank_) == 21  # "The sky  is BLUE" is "the sky is blue" under case and spaces
    plain = [t for t, _ in bot.replies("what colour is the sky", k=3)]
    assert {"the sky is blue", "the sky is blue!"} <= set(plain)  # near-duplicates on top
    diverse = [t for t, _ in bot.replies("what colour is the sky", k=3, diversity=0.7)]
    assert len(set(diverse)) == 3 and diverse[0] == plain[0]
    assert len({"the sky is blue", "the sky is blue!"} & set(diverse)) == 1


def test_temperature_with_a_seed_is_reproducible(bot):
    a = bot.replies("what colour is the grass", k=5, temperature=5.0, seed=3)
    assert a == bot.replies("what colour is the grass", k=5, temperature=5.0, seed=3)
    orders = {tuple(t for t, _ in bot.replies("what colour is the grass", k=5, temperature=5.0, seed=s))
              for s in range(8)}
    assert len(orders) > 1  # sampling varies with the seed
    assert all(t in bot.bank_ for order in orders for t in order)


class PreferLonger:
    """A stand-in generator: the log-likelihood of a reply is its length (duck typing)."""

    def __init__(self):
        self.calls = []

    def log_likelihood(self, sources, targets):
        self.calls.append((list(sources), list(targets)))
        return np.array([float(len(t)) for t in targets])


def test_rerank_reorders_the_top_replies_by_the_generator(bot):
    ranker = PreferLonger()
    message = "hey you <sep> what colour is the sky"
    top10 = [t for t, _ in bot.replies(message, k=10)]
    bot.config.rerank_weight = 100.0
    try:
        out = bot.replies(message, k=3, rerank=ranker, rerank_top=10)
    finally:
        bot.config.rerank_weight = 1.0
    assert [t for t, _ in out] == sorted(top10, key=len, reverse=True)[:3]  # the longest first
    sources, targets = ranker.calls[0]
    assert sources == [message] * 10 and set(targets) == set(top10)
    assert top10[0] == "the sky is blue" != out[0][0]
    messages, replies = pairs(2, seed=2)
    table = bot.evaluate(messages, replies, rerank=PreferLonger(), baselines=()).table
    assert list(table.method) == ["rnnkit", "rnnkit+rerank"]


def test_rerank_needs_a_log_likelihood_method(bot):
    with pytest.raises(ConfigError, match=r"ChatModel.replies: rerank: expected None or an object with log_likelihood"):
        bot.replies("hi", rerank=object())


@pytest.mark.parametrize("message", ["", "   ", "hello <sep>  ", "\n\t"])
def test_an_empty_message_is_one_data_error_line(bot, message):
    with pytest.raises(DataError, match=r"ChatModel.replies: message: expected a text with at least one word") as err:
        bot.reply(message)
    assert "\n" not in str(err.value)


def test_a_message_of_unknown_words_gets_a_bank_reply(bot):
    assert bot.reply("zorblax quuxify frobnicate") in bot.bank_
    assert bot.reply("🙂🙂") in bot.bank_


def test_a_very_long_message_is_cut_from_the_left_with_bounded_work(bot):
    tail = " what colour is the sky"
    long = "blah " * 200_000 + tail
    started = time.perf_counter()
    out = bot.reply(long)
    assert time.perf_counter() - started < 2.0
    assert out == bot.reply("blah " * 40 + tail)  # the same last max_context_tokens tokens
    many = [f"turn {i}" for i in range(100_000)]
    assert bot.reply("sky colour ?", many) in bot.bank_


def test_bad_arguments_are_refused(bot):
    with pytest.raises(DataError, match="ChatModel.replies: message: expected a str"):
        bot.reply(None)
    with pytest.raises(DataError, match="context: expected None, a str or a list of str"):
        bot.reply("hi", context=5)
    with pytest.raises(ConfigError, match=r"diversity: expected a number in \[0, 1\)"):
        bot.replies("hi", diversity=1.0)
    with pytest.raises(ConfigError, match="temperature"):
        bot.replies("hi", temperature=-1)
    with pytest.raises(ConfigError, match="unknown baseline 'bm25'"):
        bot.evaluate(["hi"] * 20, ANSWERS, baselines=("bm25",))
    with pytest.raises(DataError, match="at least 10 distinct replies"):
        bot.evaluate(["hi"] * 5, ANSWERS[:5])
    with pytest.raises(DataError, match=r"replies: expected one per message \(2\)"):
        ChatModel(**SMALL).fit(["a", "b"], ["c"])
    with pytest.raises(DataError, match=r"replies\[1\]: expected a text with at least one word"):
        ChatModel(**SMALL).fit(["a", "b"], ["c", " "])
    with pytest.raises(ConfigError, match="bank_min_words"):
        ChatModel(bank_min_words=5, bank_max_words=2).fit(["a", "b"], ["c", "d"])


def test_set_bank_replaces_the_answers(bot, tmp_path):
    messages, replies = pairs(8, seed=0)
    other = ChatModel(**SMALL).fit(messages, replies)
    other.set_bank(["the sky is blue", "no idea, sorry", "  ", "The sky is blue"])
    assert other.bank_ == ["the sky is blue", "no idea, sorry"]
    assert other.reply("what colour is the sky") == "the sky is blue"
    assert {t for t, _ in other.replies("cat sound ?", k=5)} == {"the sky is blue", "no idea, sorry"}
    with pytest.raises(DataError, match="at least one non-blank text"):
        other.set_bank(["  ", ""])


def test_save_load_answers_the_same(bot, tmp_path):
    path = bot.save(tmp_path / "chat.rnnkit")
    back = rnnkit.load(path)
    assert isinstance(back, ChatModel) and back.bank_ == bot.bank_
    for message in ("what colour is the sky", "hello there <sep> rome country ?", "zorblax"):
        assert back.replies(message, k=4) == bot.replies(message, k=4)
    messages, replies = pairs(3, seed=1)
    pd_back, pd_bot = back.evaluate(messages, replies).table, bot.evaluate(messages, replies).table
    assert pd_back.equals(pd_bot)  # the TF-IDF baseline travels in the file


def test_the_file_check_refuses_bank_vectors_that_do_not_match(bot, tmp_path):
    bundle = read_bundle(bot.save(tmp_path / "chat.rnnkit"))

    def resave(name, tensors=None, preprocessing=None):
        return save_bundle(tmp_path / name, task=bundle.task, config=bundle.config,
                           tensors=tensors or bundle.tensors, preprocessing=preprocessing or bundle.preprocessing,
                           metrics=bundle.metrics)

    short = {**bundle.tensors, "bank.vectors": bundle.tensors["bank.vectors"][:5]}
    with pytest.raises(BundleError, match=r"tensor 'bank.vectors': expected F32 shape \(20, 24\)"):
        rnnkit.load(resave("short.rnnkit", tensors=short))
    missing = {k: v for k, v in bundle.tensors.items() if k != "bank.vectors"}
    with pytest.raises(BundleError, match=r"tensor 'bank.vectors': expected present"):
        rnnkit.load(resave("missing.rnnkit", tensors=missing))
    doubled = {**bundle.preprocessing, "bank": bundle.preprocessing["bank"][:19] + [bundle.preprocessing["bank"][0]]}
    with pytest.raises(BundleError, match="bank: expected distinct names"):
        rnnkit.load(resave("doubled.rnnkit", preprocessing=doubled))
    wide = {**bundle.tensors, "model.embedding.weight": torch.zeros(len(bot.encoder_.vocab), 30)}
    with pytest.raises(BundleError, match="model.embedding.weight"):
        rnnkit.load(resave("wide.rnnkit", tensors=wide))


def test_settings_are_reported_and_checked():
    messages, replies = pairs(2, seed=0)
    bot = ChatModel(**{**SMALL, "epochs": 1}).fit(messages, replies)
    assert bot.settings_["cell"] == "gru" and bot.settings_["context_turns"] == 1
    with pytest.raises(ConfigError, match=r"ChatModel: batch_size: expected at least 2"):
        ChatModel(batch_size=1).fit(messages, replies)
    with pytest.raises(ConfigError, match="unknown"):
        ChatModel(hiden_size=3)


def test_a_lexical_weight_adds_the_tfidf_cosine_and_reports_the_dense_row(bot, tmp_path):
    messages, replies = pairs(8, seed=0)
    hybrid = ChatModel(**{**SMALL, "lexical_weight": 5.0}).fit(messages, replies)
    plain = ChatModel(**SMALL).fit(messages, replies)  # the same seed: the same network
    query = "what colour is the sky"
    lexical = hybrid.tfidf_.scores([query], ["the sky is blue"], np.array([[0]]))[0, 0]
    assert lexical > 0.1
    got = dict(hybrid.replies(query, k=20))
    want = dict(plain.replies(query, k=20))
    assert got["the sky is blue"] == pytest.approx(want["the sky is blue"] + 5.0 * lexical, rel=1e-4)
    test_m, test_r = pairs(3, seed=1)
    table = hybrid.evaluate(test_m, test_r).table
    assert list(table.method) == ["rnnkit", "dual-encoder", "tfidf", "random"]
    assert rnnkit.load(hybrid.save(tmp_path / "h.rnnkit")).replies(query, k=3) == hybrid.replies(query, k=3)
    with pytest.raises(ConfigError, match="lexical_weight, keep_tfidf"):
        ChatModel(lexical_weight=1.0, keep_tfidf=False).fit(messages, replies)


def test_lexical_weight_none_is_chosen_on_the_held_out_pairs(tmp_path):
    from rnnkit.tasks.chat.evaluation import LEXICAL_GRID

    messages, replies = pairs(8, seed=0)
    bot = ChatModel(**{**SMALL, "lexical_weight": None, "val_fraction": 0.25}).fit(messages, replies)
    chosen = bot.settings_["lexical_weight"]
    assert chosen in LEXICAL_GRID and bot.config.lexical_weight is None
    back = rnnkit.load(bot.save(tmp_path / "auto.rnnkit"))
    assert back.settings_["lexical_weight"] == chosen and back.config.lexical_weight is None
    with pytest.raises(ConfigError, match="lexical_weight, val_fraction"):
        ChatModel(lexical_weight=None, val_fraction=0.0).fit(messages, replies)


def test_replies_skip_an_echo_of_the_message():
    messages, replies = pairs(8, seed=0)
    bot = ChatModel(**SMALL).fit(messages, replies, bank=ANSWERS + ["what colour is the sky today ?"])
    query = "hello there <sep> what colour is the sky ?"
    assert "what colour is the sky today ?" not in [t for t, _ in bot.replies(query, k=21)]
    assert len(bot.replies(query, k=21)) == 20
    bot.config.max_echo = None
    assert "what colour is the sky today ?" in [t for t, _ in bot.replies(query, k=21)]
    bot.config.max_echo = 0.6
    bot.set_bank(["what colour is the sky ?"])  # every reply an echo: still one answer
    assert bot.reply(query) == "what colour is the sky ?"
    assert bot.reply("hi") == "what colour is the sky ?"


def test_replies_do_not_repeat_an_earlier_turn_of_the_conversation():
    messages, replies = pairs(8, seed=0)
    bot = ChatModel(**SMALL).fit(messages, replies)
    query = "what colour is the snow"
    first = bot.reply(query)
    assert first == "snow is white"
    again = bot.reply(query, context=["hi friend", first, "hello there"])  # it said so already
    assert again != first and again in bot.bank_
    assert bot.reply(query, context=["hi friend"]) == first
