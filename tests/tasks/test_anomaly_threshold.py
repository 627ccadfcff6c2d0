"""Nonparametric dynamic thresholding: the search on a synthetic error series with a known
spike, pruning by the minimum percent decrease, and the online schedule of the tracker."""

import math

import numpy as np
import pytest

from rnnkit.tasks.anomaly.runs import runs
from rnnkit.tasks.anomaly.scoring import ScoreTracker, drivers
from rnnkit.tasks.anomaly.threshold import Threshold, dynamic_threshold, prune, search_epsilon

Z = tuple(2.0 + 0.5 * i for i in range(17))  # 2.0 .. 10.0


def spiky_errors(seed=0):
    rng = np.random.default_rng(seed)
    e = 1.0 + 0.1 * np.abs(rng.normal(size=500))
    e[300:303] = [4.0, 6.0, 4.0]
    return e


def brute_force_epsilon(e, z_values):
    """The criterion written out again, point by point."""
    mu, sd = float(np.mean(e)), float(np.std(e))
    best, pick = -math.inf, None
    for z in z_values:
        eps = mu + z * sd
        above = [i for i, v in enumerate(e) if v > eps]
        below = [v for v in e if v <= eps]
        if not above or 2 * len(above) >= len(e):
            continue
        seqs = 1 + sum(1 for a, b in zip(above, above[1:]) if b != a + 1)
        f = ((mu - np.mean(below)) / mu + (sd - np.std(below)) / sd) / (len(above) + seqs ** 2)
        if f >= best:
            best, pick = f, (eps, z)
    return pick


def test_search_finds_exactly_the_spike():
    e = spiky_errors()
    eps, z = search_epsilon(e, Z)
    assert (eps, z) == pytest.approx(brute_force_epsilon(e, Z))
    assert np.flatnonzero(e > eps).tolist() == [300, 301, 302]
    t = dynamic_threshold(e, Z, 0.13)
    assert (t.sequences, t.kept, t.cut) == (1, 1, -math.inf)  # 6 is far above the nominal max
    assert t.value == pytest.approx(eps / 0.87)


@pytest.mark.parametrize("seed", range(20))
def test_vectorized_search_equals_the_criterion_written_out(seed):
    rng = np.random.default_rng(seed)
    e = np.abs(rng.standard_t(3, size=int(rng.integers(20, 300)))) + 0.1
    if seed % 2:
        e = np.round(e, 1)  # ties between errors
    expected = brute_force_epsilon(e, Z)
    got = search_epsilon(e, Z)
    assert got == pytest.approx(expected if expected is not None else (e.max(), got[1]), rel=1e-12)


def test_search_without_any_eligible_z_takes_the_maximum():
    e = np.linspace(1, 2, 50)  # mu + 2 sigma = 2.08: nothing is ever above
    eps, z = search_epsilon(e, Z)
    assert eps == 2.0 and z == pytest.approx((2.0 - e.mean()) / e.std())
    assert search_epsilon(np.full(20, 3.0), Z) == (3.0, 0.0)  # constant errors


def test_prune_keeps_both_of_two_big_sequences():
    e = np.array([1, 1, 1, 5, 1, 1, 4.8, 1, 1, 1.0])
    # maxima 5, 4.8 then the nominal max 1: decreases 0.04, 0.79 -> keep up to the second
    assert prune(e, 3.0, 0.13) == (-math.inf, 2, 2)


def test_prune_reclassifies_small_sequences_as_nominal():
    e = np.array([1, 1, 1.1, 1, 1.05, 1.0])
    # maxima 1.1, 1.05, nominal 1: decreases 0.045, 0.048 < 0.13 -> both pruned
    cut, seqs, kept = prune(e, 1.02, 0.13)
    assert (cut, seqs, kept) == (1.1, 2, 0)
    t = Threshold(1.02, 2.0, cut, seqs, kept, 0.13)
    assert t.level == 1.1 and t.value == pytest.approx(1.1 / 0.87)


def test_prune_keeps_the_top_and_drops_the_tail():
    e = np.array([1, 9, 1, 2.0, 1, 1.9, 1.0])
    # maxima 9, 2, 1.9, nominal 1: decreases 0.78, 0.05, 0.47 -> keep all three (last >= p)
    assert prune(e, 1.5, 0.13)[2] == 3
    e = np.array([1, 9, 1, 2.0, 1, 1.9, 1.8])
    # maxima 9, 2, 1.9; nominal 1.8: decreases 0.78, 0.05, 0.053 -> keep only the 9
    cut, seqs, kept = prune(e, 1.85, 0.13)
    assert (seqs, kept, cut) == (3, 1, 2.0)


def tracker(**kw):
    args = dict(alpha=1.0, initial=Threshold(10.0, 2.0, -math.inf, 0, 0, 0.0), z_values=Z,
                min_decrease=0.13, buffer_size=20, update_every=5, min_history=5)
    args.update(kw)
    return ScoreTracker(["a", "b"], **args)


def test_tracker_schedule_and_judging_by_the_old_threshold():
    t = tracker()
    results = [t.push(np.array([1.0 + 0.01 * i, 0.0])) for i in range(12)]
    # the first five points are judged by the initial threshold, then it is recomputed
    assert [r.threshold for r in results[:5]] == [10.0] * 5
    assert results[5].threshold != 10.0
    assert results[5].threshold == results[9].threshold  # unchanged until the 10th point
    assert results[10].threshold != results[9].threshold


def test_tracker_ewma_and_shares():
    t = tracker(alpha=0.5)
    r1 = t.push(np.array([2.0, 0.0]))  # e = sqrt((4 + 0) / 2)
    r2 = t.push(np.array([0.0, 2.0]))
    assert r1.score == pytest.approx(math.sqrt(2))
    assert r2.score == pytest.approx(0.5 * math.sqrt(2) + 0.5 * math.sqrt(2))
    assert r2.shares == pytest.approx({"a": 0.5, "b": 0.5})  # q = (2, 2)
    unscored = t.push(None)
    assert math.isnan(unscored.score) and not unscored.anomaly and unscored.threshold == 10.0


def test_flagged_scores_stay_out_of_the_buffer():
    t = tracker(initial=Threshold(1.5, 2.0, -math.inf, 0, 0, 0.0))
    for v in [1.0, 9.0, 1.0, 1.0]:
        t.push(np.array([v, v]))
    assert t.recent().tolist() == [1.0, 1.0, 1.0]


def test_push_many_equals_push():
    rng = np.random.default_rng(1)
    r = np.abs(rng.normal(size=(300, 2)))
    r[:7] = np.nan
    r[150] = [9.0, 0.1]
    one, many = tracker(alpha=0.4), tracker(alpha=0.4)
    steps = [one.push(None if np.isnan(row).any() else row) for row in r]
    s = many.push_many(r)
    np.testing.assert_allclose([x.score for x in steps], s.score, rtol=0, atol=1e-12)
    np.testing.assert_array_equal([x.anomaly for x in steps], s.anomaly)
    np.testing.assert_allclose([x.threshold for x in steps], s.threshold)
    assert steps[150].anomaly and steps[150].channels == ("a",)


def test_drivers_cover_half_of_the_error():
    assert drivers(np.array([0.1, 0.8, 0.1]), ["x", "y", "z"]) == ("y",)
    assert drivers(np.array([0.45, 0.45, 0.1]), ["x", "y", "z"]) == ("x", "y")


def test_runs_of_a_threshold_are_sequences():
    e = spiky_errors()
    assert len(runs(e > 3.0)) == 1
