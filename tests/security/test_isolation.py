"""One client never harms another: a bad instance fails alone, a refused session step
changes nothing, refused rows never reach the drift monitor."""

import asyncio
import re

import httpx
import numpy as np
import pandas as pd
import pytest
from security_helpers import serving

from rnnkit.serve import ranges
from rnnkit.serve.batching import run_isolated


def instance(last_y: float = 10.0, last_x: float = 0.0, start: str = "2024-06-01") -> dict:
    times = [str(t.date()) for t in pd.date_range(start, periods=14, freq="D")]
    return {"time": times, "values": {"y": [10.0] * 13 + [last_y], "x": [0.0] * 13 + [last_x]}}


def row(day: str, y: float = 10.0, x: float = 0.0) -> dict:
    return {"time": [day], "values": {"y": [y], "x": [x]}}


def message(r: httpx.Response) -> str:
    return r.json()["error"]["message"]


async def _crowd(c, bad: list[dict]) -> tuple[list, list]:
    """150 good single-instance requests sent at once, with the ``bad`` bodies among them."""
    async def post(body):
        return await c.post("/v1/models/daily/predict", json={"instances": [body]})
    good = [post(instance(10.0 + 0.01 * i)) for i in range(150)]
    hostile = [post(b) for b in bad]
    every = await asyncio.gather(*good, *hostile)
    return every[:150], every[150:]


BAD = [instance(1e300), instance(last_x=-1e308), instance(3.4e38), instance(-1e300)] * 10


def test_bad_instances_never_fail_their_batch_neighbours(forecaster_file):
    async def main():
        async with serving(models={"daily": str(forecaster_file)}) as c:
            return await _crowd(c, BAD)

    good, bad = asyncio.run(main())
    assert [r.status_code for r in good] == [200] * 150  # before: 35 of 150 failed
    assert {r.status_code for r in bad} == {422}
    assert re.search(r"values\['y'\]\[13\]: expected a number the model can compute with, within "
                     r"\[-\S+, \S+\] \(finite once scaled to the model's float32 units\), got 1e\+300",
                     message(bad[0])), message(bad[0])
    assert "values['x'][13]" in message(bad[1]) and "got -1e+308" in message(bad[1])


def test_a_failing_pass_is_traced_to_the_instance_that_caused_it(forecaster_file, monkeypatch):
    """With the up-front range check off, 1e300 reaches the network and its pass fails:
    the batch is bisected and only the bad instances hear the error."""
    monkeypatch.setattr(ranges, "check_scaled", lambda *a, **k: None)

    async def main():
        async with serving(models={"daily": str(forecaster_file)}, max_wait_ms=20.0) as c:
            return await _crowd(c, BAD[:8])

    good, bad = asyncio.run(main())
    assert [r.status_code for r in good] == [200] * 150
    assert {r.status_code for r in bad} == {422}, [r.text for r in bad]
    assert all("instances[0]: " in message(r) and "finite" in message(r) for r in bad)


def test_bisection_costs_few_passes():
    calls = []

    def run_batch(payloads):
        calls.append(len(payloads))
        if 13 in payloads:
            raise ValueError("bad 13")
        return [p * 2 for p in payloads]

    out = run_isolated(run_batch, list(range(64)))
    assert [o for i, o in enumerate(out) if i != 13] == [2 * i for i in range(64) if i != 13]
    assert isinstance(out[13], ValueError) and str(out[13]) == "bad 13"
    assert len(calls) <= 2 * 6 + 1  # one failing path down, one good sibling per level


def test_a_refused_step_changes_nothing_and_its_retry_succeeds(forecaster_file):
    async def main():
        async with serving(models={"daily": str(forecaster_file)}) as c:
            sid = (await c.post("/v1/models/daily/sessions")).json()["session_id"]
            url = f"/v1/models/daily/sessions/{sid}/step"
            first = await c.post(url, json=row("2024-01-01"))
            refused = await c.post(url, json=row("2024-01-02", y=1e300))
            retry = await c.post(url, json=row("2024-01-02"))
            return first, refused, retry

    first, refused, retry = asyncio.run(main())
    assert first.status_code == 200 and first.json()["rows_seen"] == 1
    assert refused.status_code == 422 and "step: values['y'][0]" in message(refused)
    assert retry.status_code == 200, retry.text  # before: refused as out of order
    assert retry.json()["rows_seen"] == 2


def test_a_bad_session_never_spoils_the_steps_batched_with_it(forecaster_file, monkeypatch):
    """The range check off, a bad step fails inside the shared pass: the good sessions'
    steps are answered, exactly as a lone session would be, and the bad session's state
    does not move, so its retry with a good row succeeds."""
    monkeypatch.setattr(ranges, "check_scaled", lambda *a, **k: None)
    days = [str(t.date()) for t in pd.date_range("2024-01-01", periods=16, freq="D")]
    ys = 10 + np.sin(np.arange(16))

    async def main():
        async with serving(models={"daily": str(forecaster_file)}, max_wait_ms=20.0) as c:
            sids = [(await c.post("/v1/models/daily/sessions")).json()["session_id"] for _ in range(6)]
            for d, y in zip(days[:15], ys[:15]):  # fill every window (lookback 14)
                await asyncio.gather(*[c.post(f"/v1/models/daily/sessions/{s}/step", json=row(d, y))
                                       for s in sids])
            steps = [c.post(f"/v1/models/daily/sessions/{s}/step",
                            json=row(days[15], 1e300 if k == 0 else ys[15])) for k, s in enumerate(sids)]
            last = await asyncio.gather(*steps)
            retry = await c.post(f"/v1/models/daily/sessions/{sids[0]}/step", json=row(days[15], ys[15]))
            alone = await c.post("/v1/models/daily/predict", json={"instances": [  # the session's rows
                {"time": days, "values": {"y": list(ys), "x": [0.0] * 16}}]})
            return last, retry, alone

    last, retry, alone = asyncio.run(main())
    assert last[0].status_code == 422, last[0].text
    assert [r.status_code for r in last[1:]] == [200] * 5, [r.text for r in last[1:]]
    assert retry.status_code == 200, retry.text
    expected = alone.json()["predictions"][0]
    for r in [*last[1:], retry]:
        got = r.json()["outputs"][-1]
        assert r.json()["rows_seen"] == 16
        assert got["time"] == expected["time"]
        np.testing.assert_allclose(got["forecast"]["y"]["point"], expected["forecast"]["y"]["point"], rtol=1e-5)


def _feature_stats(text: str) -> dict:
    found = re.findall(r'rnnkit_input_feature_(mean|std)\{feature="(\w+)",model="daily"\} (\S+)', text)
    return {(k, f): float(v) for k, f, v in found}


def test_refused_rows_never_reach_the_drift_monitor(forecaster_file):
    async def main():
        async with serving(models={"daily": str(forecaster_file)}) as c:
            for i in range(5):
                assert (await c.post("/v1/models/daily/predict", json={"instances": [instance(10 + i)]})
                        ).status_code == 200
            before = (await c.get("/metrics")).text
            refused = [await c.post("/v1/models/daily/predict", json={"instances": [instance(1e308)]}),
                       await c.post("/v1/models/daily/predict", json={"instances": [instance(last_x=1e308)]})]
            sid = (await c.post("/v1/models/daily/sessions")).json()["session_id"]
            refused.append(await c.post(f"/v1/models/daily/sessions/{sid}/step", json=row("2024-01-01", 1e308)))
            after = (await c.get("/metrics")).text
            return before, refused, after

    before, refused, after = asyncio.run(main())
    assert [r.status_code for r in refused] == [422] * 3
    stats = _feature_stats(after)
    assert stats and stats == _feature_stats(before)
    assert all(np.isfinite(v) for v in stats.values()), stats
    assert "+Inf" not in "".join(line for line in after.splitlines() if "feature_std" in line)


@pytest.mark.parametrize("rows", [np.array([[1e200, 1.0]]), np.array([[1.0, 1.0], [1e300, -1e300]])])
def test_drift_statistics_stay_finite(rows):
    from rnnkit.serve.drift import RunningStats
    stats = RunningStats(["a", "b"])
    stats.update(np.array([[1.0, 2.0], [3.0, 4.0]]))
    stats.update(rows)
    assert np.isfinite(stats.mean).all() and np.isfinite(stats.std).all()


def test_a_step_that_timed_out_says_so_to_later_steps(forecaster_file):
    async def main():
        async with serving(models={"daily": str(forecaster_file)}, request_timeout_s=0.2) as c:
            adapter = c.app.state.services["daily"].adapter
            slow = adapter.step_batch

            def step_batch(pairs):
                import time
                time.sleep(0.4)
                return slow(pairs)

            adapter.step_batch = step_batch
            sid = (await c.post("/v1/models/daily/sessions")).json()["session_id"]
            late = await c.post(f"/v1/models/daily/sessions/{sid}/step", json=row("2024-01-01"))
            after = await c.post(f"/v1/models/daily/sessions/{sid}/step", json=row("2024-01-02"))
            return late, after

    late, after = asyncio.run(main())
    assert late.status_code == 504 and "request_timeout_s=0.2 s (counted from its arrival)" in message(late)
    assert after.status_code == 404
    assert "closed because a step timed out after 0.2 s (request_timeout_s)" in message(after)
    assert "deleted by a client" not in message(after)
