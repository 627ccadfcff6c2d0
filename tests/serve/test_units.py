"""Batching, sessions and drift on their own, without HTTP."""

import asyncio
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from rnnkit.errors import ConfigError
from rnnkit.serve.batching import Batcher, QueueFull, length_groups
from rnnkit.serve.config import ServeConfig, api_key_from_env, model_specs
from rnnkit.serve.drift import RunningStats
from rnnkit.serve.sessions import SessionGone, SessionStore


def test_length_groups_keep_padding_small_and_cover_every_index():
    lengths = [5, 100, 6, 98, 7, 50, 101]
    groups = length_groups(lengths, max_waste=0.5)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    for g in groups:
        longest = max(lengths[i] for i in g)
        waste = sum(longest - lengths[i] for i in g)
        assert waste <= 0.5 * longest * len(g)
    assert len(groups) >= 2  # 5..7 and 98..101 do not share a pass


def run(coro):
    return asyncio.run(coro)


def test_batcher_fills_batches_under_load_and_answers_in_order():
    sizes = []

    def double(xs):
        sizes.append(len(xs))
        return [2 * x for x in xs]

    async def main():
        b = Batcher(double, ThreadPoolExecutor(1), max_batch=8, max_wait_ms=50, max_queue=100)
        b.start()
        futures = b.submit(list(range(20)), [1] * 20)
        out = await asyncio.gather(*futures)
        await b.close()
        return out

    assert run(main()) == [2 * x for x in range(20)]
    assert sizes == [8, 8, 4]


def test_batch_of_one_means_no_batching_and_errors_stay_with_their_item():
    sizes = []

    def fn(xs):
        sizes.append(len(xs))
        return [ValueError(f"bad {x}") if x == 3 else x for x in xs]

    async def main():
        b = Batcher(fn, ThreadPoolExecutor(1), max_batch=1, max_wait_ms=0, max_queue=100)
        b.start()
        futures = b.submit([1, 2, 3, 4], [1] * 4)
        out = await asyncio.gather(*futures, return_exceptions=True)
        await b.close()
        return out

    out = run(main())
    assert out[:2] == [1, 2] and out[3] == 4 and isinstance(out[2], ValueError)
    assert sizes == [1, 1, 1, 1]


def test_queue_bound_and_close_drains_what_was_queued():
    async def main():
        b = Batcher(lambda xs: xs, ThreadPoolExecutor(1), max_batch=4, max_wait_ms=1, max_queue=5)
        b.start()
        with pytest.raises(QueueFull, match="max_queue=5"):
            b.submit(list(range(6)), [1] * 6)
        futures = b.submit(list(range(5)), [1] * 5)
        await b.close()
        assert all(f.done() for f in futures)
        with pytest.raises(QueueFull, match="shutting down"):
            b.submit([1], [1])
        return [f.result() for f in futures]

    assert run(main()) == list(range(5))


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_sessions_expire_evict_and_say_why():
    async def main():
        clock, closed = Clock(), []
        store = SessionStore("m", max_sessions=2, ttl_s=10, clock=clock, on_close=closed.append)
        a = store.open("A")
        b = store.open("B")
        clock.now = 5
        store.get(a.id)  # a is now the most recently used
        c = store.open("C")  # evicts b
        with pytest.raises(SessionGone, match="evicted.*max_sessions=2"):
            store.get(b.id)
        clock.now = 16  # c idle 11 s, a idle 11 s
        with pytest.raises(SessionGone, match="expired after 10 s"):
            store.get(a.id)
        assert len(store) == 0 and closed == ["evicted", "expired", "expired"]
        with pytest.raises(SessionGone, match="not open on this server"):
            store.get("nope")
        d = store.open("D")
        store.close(d.id)
        with pytest.raises(SessionGone, match="deleted by a client"):
            store.get(d.id)
        return c

    run(main())


def test_session_ids_carry_the_instance_prefix():
    async def main():
        store = SessionStore("m", max_sessions=3, ttl_s=10, prefix="east_2")
        return store.open("A").id

    sid = run(main())
    assert sid.startswith("east_2-") and len(sid) == len("east_2-") + 32
    with pytest.raises(ConfigError, match="instance id"):
        ServeConfig(instance_id="bad/id")


def test_running_stats_equal_numpy_and_score_drift():
    rng = np.random.default_rng(0)
    rows = rng.normal(3.0, 2.0, size=(1000, 2))
    s = RunningStats(["a", "b"], train_mean=[0.0, 3.0], train_std=[1.0, 2.0])
    for part in np.array_split(rows, 7):
        s.update(part)
    s.update(np.array([[np.nan, 1.0]]))  # rows with NaN are skipped
    np.testing.assert_allclose(s.mean, rows.mean(0), rtol=1e-12)
    np.testing.assert_allclose(s.std, rows.std(0), rtol=1e-12)
    scores = s.scores()
    assert scores[0] > 2.5 and scores[1] < 0.2


def test_config_checks_and_model_names(monkeypatch, tmp_path):
    with pytest.raises(ConfigError, match="max_batch"):
        ServeConfig(max_batch=0)
    with pytest.raises(ConfigError, match="at least 8 characters"):
        ServeConfig(api_key="short")
    with pytest.raises(ConfigError, match="model name"):
        ServeConfig(models={"bad name!": "x"})
    assert model_specs(["a/weather.rnnkit", "t=b/x.rnnkit"]) == {"weather": "a/weather.rnnkit", "t": "b/x.rnnkit"}
    with pytest.raises(ConfigError, match="unique names"):
        model_specs(["a/w.rnnkit", "b/w.rnnkit"])
    monkeypatch.delenv("NOPE_KEY", raising=False)
    with pytest.raises(ConfigError, match="NOPE_KEY.*unset"):
        api_key_from_env("NOPE_KEY")
