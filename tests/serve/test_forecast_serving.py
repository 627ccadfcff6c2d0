"""Serving a forecaster: answers equal Forecaster.predict, batching across requests,
sessions equal offline forecasts of each stream (1,000 concurrent sessions), metrics."""

import asyncio

import numpy as np
import pandas as pd
from prometheus_client.parser import text_string_to_metric_families
from serve_helpers import daily_frame, run, serving

import rnnkit


def instance(frame: pd.DataFrame) -> dict:
    return {"time": [str(t.date()) for t in frame["date"]],
            "values": {"y": frame["y"].tolist(), "x": frame["x"].tolist()}}


async def follow(c, model: str, frame: pd.DataFrame, cuts) -> list:
    """Open a session of ``model``, step it with the rows ``frame[a:b]`` of each cut; every
    row's output, in order."""
    sid = (await c.post(f"/v1/models/{model}/sessions")).json()["session_id"]
    outs = []
    for a, b in cuts:
        r = await c.post(f"/v1/models/{model}/sessions/{sid}/step", json=instance(frame.iloc[a:b]))
        assert r.status_code == 200, r.text
        outs += r.json()["outputs"]
    return outs


def test_predict_equals_forecaster_predict_and_requests_batch(forecaster_file):
    f = rnnkit.load(forecaster_file)
    frame = daily_frame(400, seed=1)
    windows = [frame.iloc[s: s + 20] for s in range(0, 300, 10)]

    async def main():
        async with serving(models={"daily": str(forecaster_file)}, max_batch=64, max_wait_ms=20) as c:
            replies = await asyncio.gather(*[c.post("/v1/models/daily/predict", json={"instances": [instance(w)]})
                                             for w in windows])
            metrics = (await c.get("/metrics")).text
            return [r.json() for r in replies], metrics

    replies, metrics = run(main())
    for w, reply in zip(windows, replies):
        want = f.predict(w)
        got = reply["predictions"][0]["forecast"]["y"]
        np.testing.assert_allclose(got["point"], want["y"], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(got["lower"], want["y_lower"], rtol=1e-5, atol=1e-5)
        assert reply["predictions"][0]["time"][0].startswith(str(want["date"].iloc[0].date()))
    families = {f.name: f for f in text_string_to_metric_families(metrics)}
    batch = [s for s in families["rnnkit_batch_size"].samples if s.name.endswith("_count")
             and s.labels["kind"] == "predict"]
    assert batch[0].value < len(windows)  # 30 concurrent requests took fewer passes


def test_sessions_equal_offline_forecasts_of_each_stream(forecaster_file):
    """1,000 sessions step concurrently, several rows per step, interleaved."""
    f = rnnkit.load(forecaster_file)
    L, n_sessions, rows = f.config.lookback, 1000, 18
    frames = [daily_frame(rows, seed=s) for s in range(n_sessions)]

    cuts = [(0, 5), (5, 13), (13, 14), (14, rows)]

    async def main():
        async with serving(models={"daily": str(forecaster_file)}, max_batch=256, max_wait_ms=2) as c:
            return await asyncio.gather(*[follow(c, "daily", fr, cuts) for fr in frames])

    results = run(main())
    last = np.stack([f.predict(fr.iloc[rows - L: rows])["y"].to_numpy() for fr in frames])  # offline
    got = np.stack([outs[-1]["forecast"]["y"]["point"] for outs in results])  # every session's last
    np.testing.assert_allclose(got, last, atol=1e-5, rtol=1e-5)
    checked = 0
    for frame, outs in zip(frames[:: 50], results[:: 50]):
        assert outs[: L - 1] == [None] * (L - 1)
        for t in range(L, rows + 1):  # the output after row t is predict on rows [t-L, t)
            want = f.predict(frame.iloc[t - L: t])["y"].to_numpy()
            np.testing.assert_allclose(outs[t - 1]["forecast"]["y"]["point"], want, atol=1e-5, rtol=1e-5)
            checked += 1
    assert checked == 20 * (rows - L + 1)
    assert all(len(o) == rows for o in results)


def test_guarded_sessions_equal_predict_on_their_rows(tmp_path):
    """A model whose guard falls back to a baseline: each session's forecast is predict on the
    rows it holds (up to history_rows_), baselines included."""
    frame = daily_frame(300, seed=3)
    frame["y"] = np.random.default_rng(3).normal(0, 1, len(frame))  # white noise: nothing to learn
    f = rnnkit.Forecaster(lookback=14, horizon=3, ensemble=1, hidden_size=4, max_steps=20,
                          guard="fallback", progress="none")
    f.fit(frame, time="date", target="y", past_covariates=["x"])
    f.guard_.default = f.guard_.decisions["None"] = type(f.guard_.default)("baseline", "seasonal_naive")
    path = f.save(tmp_path / "guarded.rnnkit")
    rows, L = 30, f.lookback_
    assert f.history_rows_ >= rows

    async def main():
        async with serving(models={"g": str(path)}, max_batch=16, max_wait_ms=2) as c:
            return await asyncio.gather(*[follow(c, "g", frame.iloc[s: s + rows], [(0, 10), (10, 20), (20, rows)])
                                          for s in (0, 100)])

    for s, outs in zip((0, 100), run(main())):
        part = frame.iloc[s: s + rows]
        for t in (L, rows):
            want = f.predict(part.iloc[:t])["y"].to_numpy()
            np.testing.assert_allclose(outs[t - 1]["forecast"]["y"]["point"], want, atol=1e-5, rtol=1e-5)
        seasonal = part["y"].to_numpy()[rows - 7: rows - 4]  # the seasonal-naive fallback
        np.testing.assert_allclose(outs[-1]["forecast"]["y"]["point"], seasonal, atol=1e-5)


def test_a_refused_step_leaves_the_session_as_it_was(forecaster_file):
    frame = daily_frame(30)

    async def main():
        async with serving(models={"daily": str(forecaster_file)}) as c:
            sid = (await c.post("/v1/models/daily/sessions")).json()["session_id"]
            url = f"/v1/models/daily/sessions/{sid}/step"
            ok = await c.post(url, json=instance(frame.iloc[0:3]))
            gap = await c.post(url, json=instance(frame.iloc[4:6]))  # skips a day
            nan = await c.post(url, content=b'{"time": ["2022-01-04"], "values": {"y": [NaN], "x": [0]}}',
                               headers={"content-type": "application/json"})
            again = await c.post(url, json=instance(frame.iloc[3:5]))
            return ok, gap, nan, again

    ok, gap, nan, again = run(main())
    assert ok.json()["rows_seen"] == 3
    assert gap.status_code == 422 and "expected 2022-01-04" in gap.json()["error"]["message"]
    assert nan.status_code == 422 and "finite number" in nan.json()["error"]["message"]
    assert again.status_code == 200 and again.json()["rows_seen"] == 5


def test_metrics_parse_and_count_the_traffic(forecaster_file):
    frame = daily_frame(60)

    async def main():
        async with serving(models={"daily": str(forecaster_file)}) as c:
            for _ in range(3):
                await c.post("/v1/models/daily/predict", json={"instances": [instance(frame.iloc[:20])]})
            for _ in range(2):
                await c.post("/v1/models/daily/predict", json={"instances": [{"time": ["x"], "values": {}}]})
            await c.post("/v1/models/nope/predict", json={})
            sid = (await c.post("/v1/models/daily/sessions")).json()["session_id"]
            await c.post(f"/v1/models/daily/sessions/{sid}/step", json=instance(frame.iloc[:4]))
            return (await c.get("/metrics")).text

    text = run(main())
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value

    def requests(endpoint, status, model="daily"):
        return samples.get(("rnnkit_requests_total", (("endpoint", endpoint), ("model", model),
                                                      ("status", status))), 0)

    assert requests("predict", "200") == 3
    assert requests("predict", "422") == 2
    assert requests("predict", "404", "_unknown") == 1
    assert requests("session_open", "201") == 1 and requests("session_step", "200") == 1
    assert samples[("rnnkit_sessions_open", (("model", "daily"),))] == 1
    assert samples[("rnnkit_input_values_total", (("model", "daily"),))] == 3 * 20 + 4
    assert samples[("rnnkit_model_load_seconds", (("model", "daily"),))] > 0
    mean = samples[("rnnkit_input_feature_mean", (("feature", "y"), ("model", "daily")))]
    np.testing.assert_allclose(mean, (3 * frame["y"].iloc[:20].sum() + frame["y"].iloc[:4].sum()) / 64)
    assert ("rnnkit_training_feature_std", (("feature", "x"), ("model", "daily"))) in samples
    assert ("rnnkit_input_drift_score", (("feature", "x"), ("model", "daily"))) in samples
    lat = samples[("rnnkit_request_latency_seconds_count", (("endpoint", "predict"), ("model", "daily")))]
    assert lat == 5
