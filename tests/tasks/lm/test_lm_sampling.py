"""Sampling: temperature, top-k, top-p (nucleus), greedy, seeds and bad settings."""

import re

import pytest
import torch

from rnnkit.errors import ConfigError
from rnnkit.tasks.common.sampling import check_sampling, make_generator, next_token_distribution, sample

LOGITS = torch.log(torch.tensor([0.05, 0.4, 0.1, 0.3, 0.15]))


def test_top_k_keeps_only_the_k_most_probable():
    p = next_token_distribution(LOGITS, top_k=2)
    assert (p > 0).nonzero().flatten().tolist() == [1, 3]
    assert p[1] == pytest.approx(0.4 / 0.7) and p.sum() == pytest.approx(1.0)


def test_top_p_keeps_the_smallest_set_with_enough_mass():
    # sorted: 0.4, 0.3, 0.15, 0.1, 0.05 -> cumulative 0.4, 0.7, 0.85, 0.95, 1.0
    assert (next_token_distribution(LOGITS, top_p=0.7) > 0).nonzero().flatten().tolist() == [1, 3]
    assert (next_token_distribution(LOGITS, top_p=0.71) > 0).nonzero().flatten().tolist() == [1, 3, 4]
    assert (next_token_distribution(LOGITS, top_p=0.1) > 0).nonzero().flatten().tolist() == [1]
    p = next_token_distribution(LOGITS, top_p=0.9)
    assert p.sum() == pytest.approx(1.0) and p[0] == 0 and p[2] > 0


def test_temperature_scales_the_logits():
    p = next_token_distribution(LOGITS, temperature=0.5)
    q = torch.softmax(LOGITS.double() * 2, 0)
    assert torch.allclose(p, q)
    flat = next_token_distribution(LOGITS, temperature=100.0)
    assert flat.max() - flat.min() < 0.01
    greedy = next_token_distribution(LOGITS, temperature=0)
    assert greedy.tolist() == [0, 1, 0, 0, 0]
    assert sample(LOGITS, make_generator(0), temperature=0) == 1


def test_same_seed_same_draws_and_frequencies_follow_p():
    g1, g2 = make_generator(3), make_generator(3)
    a = [sample(LOGITS, g1) for _ in range(50)]
    b = [sample(LOGITS, g2) for _ in range(50)]
    assert a == b and len(set(a)) > 1
    g = make_generator(0)
    counts = torch.bincount(torch.tensor([sample(LOGITS, g) for _ in range(4000)]), minlength=5)
    assert torch.allclose(counts / 4000.0, torch.exp(LOGITS), atol=0.03)


@pytest.mark.parametrize("kwargs, message", [
    (dict(temperature=-1), "temperature: expected a number >= 0"),
    (dict(temperature=float("nan")), "temperature"),
    (dict(top_k=0), "top_k: expected an integer >= 1"),
    (dict(top_k=2.5), "top_k"),
    (dict(top_p=0.0), "top_p: expected None or a number in (0, 1]"),
    (dict(top_p=1.5), "top_p"),
    (dict(seed=-3), "seed: expected an integer >= 0"),
])
def test_bad_settings_are_config_errors(kwargs, message):
    settings = dict(temperature=1.0, top_k=None, top_p=None, seed=None)
    settings.update(kwargs)
    with pytest.raises(ConfigError, match=re.escape(message)):
        check_sampling(**settings)
