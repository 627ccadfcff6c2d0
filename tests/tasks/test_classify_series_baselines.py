"""Series-classification baselines and metrics: hand-computed answers and a plain-loop DTW."""

import numpy as np
import pytest

from rnnkit.tasks.classify_series import baselines as B
from rnnkit.tasks.common import metrics as M


def dtw_loop(a, b):
    """The DTW recursion written out cell by cell (the definition)."""
    D = np.full((len(a) + 1, len(b) + 1), np.inf)
    D[0, 0] = 0.0
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = ((a[i - 1] - b[j - 1]) ** 2).sum()
            D[i, j] = cost + min(D[i - 1, j - 1], D[i - 1, j], D[i, j - 1])
    return D[-1, -1]


def test_dtw_matches_the_plain_loop_on_variable_lengths():
    rng = np.random.default_rng(0)
    queries = [rng.normal(size=(int(n), 3)) for n in rng.integers(1, 12, 7)]
    refs = [rng.normal(size=(int(n), 3)) for n in rng.integers(1, 12, 5)]
    want = np.array([[dtw_loop(a, b) for b in refs] for a in queries])
    np.testing.assert_allclose(B.dtw_distances(queries, refs), want, rtol=1e-9, atol=1e-9)
    # chunked over the queries, the same answer
    np.testing.assert_allclose(B.dtw_distances(queries, refs, max_cells=1), want, rtol=1e-9, atol=1e-9)


def test_dtw_known_answers():
    a = np.array([[0.0], [1.0], [2.0]])
    stretched = np.array([[0.0], [0.0], [1.0], [1.0], [2.0], [2.0]])
    assert B.dtw_distances([a], [stretched])[0, 0] == 0.0  # warping absorbs the stretch
    assert B.dtw_distances([a], [a + 1])[0, 0] == 2.0  # 0-1, 1-1, 2-2, 2-3


def test_resample_is_linear_interpolation():
    s = np.array([[0.0, 10.0], [2.0, 20.0]])  # (2, 2)
    out = B.resample([s], 5)[0]
    np.testing.assert_allclose(out[:, 0], [0, 0.5, 1, 1.5, 2])
    np.testing.assert_allclose(out[:, 1], [10, 12.5, 15, 17.5, 20])
    np.testing.assert_allclose(B.resample([np.array([[3.0]])], 4)[0, :, 0], [3, 3, 3, 3])


def test_nearest_centroid_and_neighbours_by_hand():
    low = [np.zeros((4, 1)), np.zeros((6, 1)) + 0.2]
    high = [np.ones((5, 1)), np.ones((3, 1)) * 1.2]
    codes = np.array([0, 0, 1, 1])
    queries = [np.full((7, 1), 0.1), np.full((2, 1), 0.9)]
    for name in B.NAMES:
        model = B.fit_baseline(name, low + high, codes, 2)
        assert model.predict(queries).tolist() == [0, 1], name


def test_metrics_by_hand():
    y = ["a", "a", "b", "b", "c"]
    p = ["a", "b", "b", "b", "a"]
    assert M.accuracy(y, p) == pytest.approx(3 / 5)
    cm = M.confusion_matrix(y, p, ["a", "b", "c"])
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 2, 0], [1, 0, 0]])
    # F1: a = 2*1/(2+1+1) = .5, b = 2*2/(4+1+0) = .8, c = 0
    assert M.macro_f1(y, p) == pytest.approx((0.5 + 0.8 + 0.0) / 3)
    frame = M.confusion_frame(y, p)
    assert frame.index.name == "true" and frame.columns.name == "predicted"


def test_metrics_agree_with_scikit_learn():
    skm = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    y, p = rng.integers(0, 4, 200), rng.integers(0, 5, 200)
    assert M.accuracy(y, p) == pytest.approx(skm.accuracy_score(y, p))
    assert M.macro_f1(y, p) == pytest.approx(skm.f1_score(y, p, average="macro"))
    np.testing.assert_array_equal(M.confusion_matrix(y, p), skm.confusion_matrix(y, p))
