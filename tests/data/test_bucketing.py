"""Padding and bucketing by length."""

import numpy as np
import torch

from rnnkit.data.bucketing import BucketBatches, length_batches, pad


def test_pad_zero_fills_and_reports_lengths():
    x, lengths = pad([np.ones((2, 3)), np.full((4, 3), 2.0)])
    assert x.shape == (2, 4, 3) and lengths.tolist() == [2, 4]
    assert x[0, 2:].abs().sum() == 0 and x[1].eq(2.0).all()


def test_sorted_batches_cover_every_index_once():
    lengths = [5, 1, 3, 3, 9, 2, 7]
    batches = length_batches(lengths, 3, shuffle=False)
    assert [b.tolist() for b in batches] == [[1, 5, 2], [3, 0, 6], [4]]


def test_shuffled_batches_group_similar_lengths_and_follow_torch_seed():
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 100, 500)
    torch.manual_seed(3)
    batches = length_batches(lengths, 16, shuffle=True, pool=100)
    assert sorted(np.concatenate(batches).tolist()) == list(range(500))
    spread = np.mean([np.ptp(lengths[b]) for b in batches])
    assert spread < 10  # a random batch of 16 spans most of 1..99
    torch.manual_seed(3)
    again = length_batches(lengths, 16, shuffle=True, pool=100)
    assert all((a == b).all() for a, b in zip(batches, again))


def test_bucket_batches_yield_padded_batches_with_targets():
    series = [np.full((n, 2), float(n)) for n in (3, 1, 4, 2, 5)]
    y = torch.arange(5)
    data = BucketBatches(series, 2, targets=[y], shuffle=True, pool=1)
    out = list(data)
    assert len(out) == len(data) == 3
    for x, lengths, target in out:
        for row, n, t in zip(x, lengths, target):
            assert row[: int(n)].eq(float(n)).all() and row[int(n):].eq(0).all()
            assert float(row[0, 0]) == len(series[int(t)])
