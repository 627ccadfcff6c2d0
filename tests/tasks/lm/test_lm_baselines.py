"""The Kneser-Ney character n-gram baseline: a proper distribution, low bpc on repetition."""

import math

import pytest

from rnnkit.errors import ConfigError
from rnnkit.tasks.lm.baselines import END, UNKNOWN, KneserNeyCharModel

TEXTS = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog"]


@pytest.mark.parametrize("order", [1, 2, 3, 5])
@pytest.mark.parametrize("history", ["", "the c", "zzzz", "xq" + END])
def test_probabilities_sum_to_one_over_the_alphabet(order, history):
    lm = KneserNeyCharModel(order).fit(TEXTS)
    d = lm.distribution(history)
    assert set(d) == set(lm.alphabet) and END in d and UNKNOWN in d
    assert sum(d.values()) == pytest.approx(1.0, abs=1e-12)
    assert min(d.values()) > 0


def test_repetitive_text_has_low_bpc_and_order_helps():
    records = ["abcabcabcabcabcabcabcabc"] * 30
    bpc5 = KneserNeyCharModel(5).fit(records).bits_per_char(records[:3])
    bpc1 = KneserNeyCharModel(1).fit(records).bits_per_char(records[:3])
    assert bpc5 < 0.3 < 1.5 < bpc1 < math.log2(6)  # 3 letters + end + unknown + ... alphabet


def test_unseen_characters_keep_some_probability():
    lm = KneserNeyCharModel(3).fit(TEXTS)
    bits, n = lm.total_bits(["the \u00e9l\u00e8ve"])  # é and è never seen
    assert math.isfinite(bits) and n == len("the \u00e9l\u00e8ve") + 1


def test_bad_order_is_a_config_error():
    with pytest.raises(ConfigError, match="order: expected an integer >= 1"):
        KneserNeyCharModel(0)
