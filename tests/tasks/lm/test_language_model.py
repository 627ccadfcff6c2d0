"""``LanguageModel``: TBPTT with carried state, evaluation, generation, streaming, the model
file and bad input — all on tiny synthetic corpora (the fortunes are for the benchmark)."""

import math
import re
import warnings

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit.data.text.vocab import EOS_ID
from rnnkit.errors import ConfigError, DataError, NotFittedError
from rnnkit.tasks.lm import LanguageModel

TEXTS = ["the cat sat on the mat.", "a dog ran in the park!", "the cat and the dog.",
         "a cat sat in the park.", "the dog sat on a log."] * 6
TINY = dict(hidden_size=24, embedding_dim=12, batch_size=4, bptt=8, epochs=2, min_freq=1,
            lr=1e-2, dropout=0.0)


@pytest.fixture(scope="module")
def lm():
    torch.manual_seed(0)
    return LanguageModel(**TINY).fit(TEXTS)


def test_state_carried_across_chunks_learns_a_period_longer_than_the_chunk():
    # blocks "a...", "b...", "c...": the letter after "..." follows the previous block's
    # letter, 4 steps back, so with chunks of 2 steps it is predictable only through the
    # state carried from chunk to chunk (about 1 target in 4 costs log 3 without it).
    text = "".join(c + "..." for c in "abc" * 50)
    settings = dict(hidden_size=16, embedding_dim=8, batch_size=4, bptt=2, epochs=12, lr=2e-2,
                    min_freq=1, val_fraction=0, dropout=0.0)
    carried = LanguageModel(**settings).fit([text])
    reset = LanguageModel(carry_state=False, **settings).fit([text])
    assert carried.history_.rows[-1]["train_loss"] < 0.05
    assert reset.history_.rows[-1]["train_loss"] > 0.2  # ~ log(3) / 4 = 0.27
    assert carried.bits_per_char([text[:240]]) < 0.3


def test_fit_records_history_and_validation_bpc(lm):
    rows = lm.history_.rows
    assert len(rows) == 2 and all("val_bpc" in r for r in rows)
    assert rows[-1]["train_loss"] < rows[0]["train_loss"]
    assert lm.encoder_.tokenizer.kind == "char" and "<eos>" in lm.encoder_.vocab


def test_evaluate_reports_bpc_perplexity_and_the_ngram(lm):
    table = lm.evaluate(TEXTS[:5]).table
    assert list(table.index) == ["rnnkit", "ngram5_kn"]
    chars = sum(len(t) + 1 for t in TEXTS[:5])
    assert (table["characters"] == chars).all() and table.loc["rnnkit", "predictions"] == chars
    row = table.loc["rnnkit"]
    # a char model: bits per char = log2(perplexity)
    assert row.bits_per_char == pytest.approx(math.log2(row.perplexity), rel=1e-9)
    assert 0 < table.loc["ngram5_kn", "bits_per_char"] < 3
    assert lm.bits_per_char(TEXTS[:5]) == pytest.approx(row.bits_per_char)


def test_word_model_bpc_divides_by_characters():
    lm = LanguageModel(tokenizer="word", **TINY).fit(TEXTS)
    table = lm.evaluate(TEXTS[:5], baselines=()).table
    row = table.loc["rnnkit"]
    words = sum(len(lm.encoder_.tokenizer.tokenize(t)) + 1 for t in TEXTS[:5])
    assert row.predictions == words and row.characters == sum(len(t) + 1 for t in TEXTS[:5])
    nll_bits = math.log2(row.perplexity) * words
    assert row.bits_per_char == pytest.approx(nll_bits / row.characters, rel=1e-9)
    assert " " in lm.generate("the", 5, seed=0) or lm.generate("the", 5, seed=0) == ""


def test_generate_is_deterministic_for_a_seed_and_greedy_at_temperature_zero(lm):
    a = lm.generate("the ", max_tokens=30, temperature=0.9, top_k=5, top_p=0.9, seed=11)
    b = lm.generate("the ", max_tokens=30, temperature=0.9, top_k=5, top_p=0.9, seed=11)
    assert a == b and len(a) <= 30
    assert lm.generate("the ", 20, temperature=0, seed=1) == lm.generate("the ", 20, temperature=0, seed=2)
    assert "<unk>" not in lm.generate("", 50, temperature=2.0, seed=3)


def test_generate_stops_at_eos():
    lm = LanguageModel(**TINY).fit(["ab"] * 60)  # "ab<eos>ab<eos>...": after "ab" comes <eos>
    assert lm.generate("", 10, temperature=0) == "ab"


@pytest.mark.parametrize("settings", [dict(), dict(cell="gru", layer_norm=True, num_layers=2),
                                      dict(weight_drop=0.3, embedding_dropout=0.2)])
def test_stream_step_matches_the_whole_sequence_model(settings):
    lm = LanguageModel(**{**TINY, "epochs": 1, **settings}).fit(TEXTS)
    text = "the cat sat"
    ids = lm.encoder_.vocab.encode(list(text))
    with torch.no_grad():
        logits, _ = lm.model_(torch.tensor([[EOS_ID] + ids]))
    full = torch.softmax(logits[0].double(), -1).numpy()  # (T + 1, V)
    s = lm.stream(top=3)
    for t, ch in enumerate(text, start=1):
        out = s.step(ch)
        np.testing.assert_allclose(out.probabilities, full[t], atol=1e-5)
        assert out.position == t and len(out.top) == 3
    s.reset()
    np.testing.assert_allclose(s.step(text).probabilities, full[-1], atol=1e-5)
    np.testing.assert_allclose(lm.stream().step(ids).probabilities, full[-1], atol=1e-5)
    assert s.step(ids[0]).tokens_read == 1


def test_save_load_round_trip(lm, tmp_path):
    path = lm.save(tmp_path / "lm.rnnkit")
    back = rnnkit.load(path)
    assert isinstance(back, LanguageModel)
    for seed in (0, 5):
        assert back.generate("a ", 25, temperature=0.8, seed=seed) == lm.generate("a ", 25, temperature=0.8, seed=seed)
    assert back.evaluate(TEXTS[:3]).table.equals(lm.evaluate(TEXTS[:3]).table)
    assert back.model_.head.weight is back.model_.embedding.weight  # still tied after loading


def test_embedding_dropout_drops_whole_words_in_training_only():
    lm = LanguageModel(**{**TINY, "epochs": 1, "embedding_dropout": 0.5, "weight_drop": 0.5}).fit(TEXTS)
    net = lm.model_.train()
    assert net.rnn.weight_drop == 0.5
    ids = torch.tensor([[3, 4, 3, 5, 4, 3] * 4])
    torch.manual_seed(1)
    e = net._embed(ids)[0]  # (L, E)
    zero = (e == 0).all(-1)
    assert zero.any() and not zero.all()
    for v in (3, 4, 5):  # a word is dropped at every position or at none
        assert len(set(zero[ids[0] == v].tolist())) == 1
    kept = ~zero
    torch.testing.assert_close(e[kept], 2 * net.embedding(ids)[0][kept])  # scaled by 1 / (1 - p)
    net.eval()
    torch.testing.assert_close(net._embed(ids), net.embedding(ids))


# ---- bad input: a clear message, never a traceback ----------------------------------------------
def test_empty_corpus_and_empty_records_are_data_errors(lm):
    with pytest.raises(DataError, match="at least one text"):
        LanguageModel(**TINY).fit([])
    with pytest.raises(DataError, match=r"texts\[1\]: expected a text with at least one token"):
        LanguageModel(**TINY).fit(["fine", "", "ok"])
    with pytest.raises(DataError, match=r"texts\[0\]"):
        lm.evaluate(["   \n"])
    with pytest.raises(DataError, match="wrap a single text in a list"):
        LanguageModel(**TINY).fit("just one text, not a file")


def test_unknown_only_text_and_prompt_warn_and_proceed(lm):
    with pytest.warns(UserWarning, match="no token in the vocabulary"):
        table = lm.evaluate(["QQQ"], baselines=()).table
    assert math.isfinite(table.loc["rnnkit", "bits_per_char"])
    with pytest.warns(UserWarning, match="no token of the prompt"):
        assert isinstance(lm.generate("ZZZZ", 5, seed=0), str)


def test_overlong_prompt_keeps_its_last_tokens(lm):
    lm.config.max_prompt_tokens = 10
    try:
        with pytest.warns(UserWarning, match="only its last max_prompt_tokens=10"):
            long = lm.generate("x" * 50 + "the cat sa", 5, temperature=0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert long == lm.generate("the cat sa", 5, temperature=0)
    finally:
        lm.config.max_prompt_tokens = 4096


def test_non_utf8_file_is_a_data_error_with_the_fix(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("caf\u00e9 au lait\n\nna\u00efve\n".encode("latin-1"))
    with pytest.raises(DataError, match='encoding="latin-1"'):
        LanguageModel(**TINY).fit(path)
    records = rnnkit.tasks.lm.datasets.read_records(path, encoding="latin-1")
    assert records == ["caf\u00e9 au lait", "na\u00efve"]


@pytest.mark.parametrize("kwargs, message", [
    (dict(top_k=0), "top_k: expected an integer >= 1"),
    (dict(top_p=1.2), "top_p: expected None or a number in (0, 1]"),
    (dict(temperature=-0.5), "temperature: expected a number >= 0"),
    (dict(max_tokens=0), "max_tokens: expected an integer >= 1"),
    (dict(max_tokens=10**9), "max_tokens: expected at most"),
])
def test_bad_generate_settings_are_config_errors(lm, kwargs, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        lm.generate("the", **{"max_tokens": 5, **kwargs})


def test_settings_and_fitting_errors():
    with pytest.raises(ConfigError, match="did you mean 'hidden_size'"):
        LanguageModel(hiden_size=3)
    with pytest.raises(ConfigError, match="cell"):
        LanguageModel(cell="transformer").fit(TEXTS)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        LanguageModel().generate("x")
    with pytest.raises(DataError, match="more than batch_size=4 tokens"):
        LanguageModel(**{**TINY, "val_fraction": 0}).fit(["a"])
    with pytest.raises(DataError, match="expected a text, a token id"):
        LanguageModel(**{**TINY, "epochs": 1}).fit(TEXTS).stream().step([])


def test_bpe_model_fits_scores_and_generates():
    lm = LanguageModel(tokenizer="bpe", bpe_vocab_size=60, **{**TINY, "epochs": 1}).fit(TEXTS)
    table = lm.evaluate(TEXTS[:3], baselines=()).table
    assert table.loc["rnnkit", "token"] == "bpe" and table.loc["rnnkit", "bits_per_char"] > 0
    text = lm.generate("the", 12, seed=0)
    assert isinstance(text, str) and "</w>" not in text  # pieces are rebuilt into words


def test_without_train_texts_the_baseline_is_skipped_with_a_warning(tmp_path):
    lm = LanguageModel(keep_train_texts=False, **{**TINY, "epochs": 1}).fit(TEXTS)
    back = rnnkit.load(lm.save(tmp_path / "small.rnnkit"))
    with pytest.warns(UserWarning, match="n-gram baseline is skipped"):
        table = back.evaluate(TEXTS[:2]).table
    assert list(table.index) == ["rnnkit"]
