"""Serving an anomaly detector and a series classifier: answers equal the estimators'."""

import asyncio

import numpy as np
from serve_helpers import hourly_frame, run, serving

import rnnkit
from rnnkit.tasks.anomaly.stream import step_many


def test_anomaly_predict_equals_detect(detector_file):
    d = rnnkit.load(detector_file)
    frame = hourly_frame(200, seed=3)
    frame.loc[150, "a"] += 4.0

    async def main():
        async with serving(models={"sensors": str(detector_file)}) as c:
            body = {"instances": [{"values": {"a": frame["a"].tolist(), "b": frame["b"].tolist()}}]}
            return (await c.post("/v1/models/sensors/predict", json=body)).json()

    got = run(main())["predictions"][0]
    points = d.detect(frame).points
    want = points["score"].to_numpy()
    np.testing.assert_allclose(np.array(got["score"], dtype=float), want, equal_nan=True, atol=1e-9)
    assert got["anomaly"] == points["anomaly"].tolist()


def test_step_many_equals_one_stream_at_a_time(detector_file):
    d = rnnkit.load(detector_file)
    frames = [hourly_frame(60, seed=s) for s in range(5)]
    one = d.stream()
    alone = [[one.step(row) for row in frames[0][["a", "b"]].to_numpy()]]
    streams = [d.stream() for _ in frames]
    together = [[] for _ in frames]
    for t in range(60):
        for i, r in enumerate(step_many(streams, [f[["a", "b"]].to_numpy()[t] for f in frames])):
            together[i].append(r)
    a = np.array([r.score for r in alone[0]])
    b = np.array([r.score for r in together[0]])
    np.testing.assert_allclose(a, b, equal_nan=True, atol=1e-12)


def test_anomaly_sessions_equal_detect_of_each_stream(detector_file):
    d = rnnkit.load(detector_file)
    frames = [hourly_frame(80, seed=s) for s in range(40)]

    async def follow(c, frame):
        sid = (await c.post("/v1/models/sensors/sessions")).json()["session_id"]
        outs = []
        for a, b in [(0, 30), (30, 31), (31, 80)]:
            r = await c.post(f"/v1/models/sensors/sessions/{sid}/step",
                             json={"values": {"a": frame["a"].iloc[a:b].tolist(), "b": frame["b"].iloc[a:b].tolist()}})
            assert r.status_code == 200, r.text
            outs += r.json()["outputs"]
        return outs

    async def main():
        async with serving(models={"sensors": str(detector_file)}, max_wait_ms=2) as c:
            return await asyncio.gather(*[follow(c, f) for f in frames])

    for frame, outs in zip(frames, run(main())):
        want = d.detect(frame).points["score"].to_numpy()
        got = np.array([np.nan if o["score"] is None else o["score"] for o in outs])
        np.testing.assert_allclose(got, want, equal_nan=True, atol=1e-9)


def test_classifier_predict_equals_predict_proba(classifier_file):
    c = rnnkit.load(classifier_file)
    rng = np.random.default_rng(1)
    X = [np.sin(np.arange(n) * 0.5)[:, None] + 0.1 * rng.normal(size=(n, 1)) for n in (9, 25, 14)]

    async def main():
        async with serving(models={"waves": str(classifier_file)}) as client:
            body = {"instances": [{"series": x.tolist()} for x in X]}
            return await client.post("/v1/models/waves/predict", json=body), \
                await client.post("/v1/models/waves/sessions")

    reply, session = run(main())
    proba = c.predict_proba(X)
    names = [str(k) for k in c.classes_]
    for row, p in zip(reply.json()["predictions"], proba):
        np.testing.assert_allclose([row["probabilities"][n] for n in names], p, atol=1e-5)
        assert row["label"] == names[int(p.argmax())]
    assert session.status_code == 404  # the classifier serves no sessions


def test_text_predict_equals_predict_proba_and_groups_by_length(text_file):
    c = rnnkit.load(text_file)
    texts = ["good", "bad stale awful " * 10, "fresh tasty good value", "zzz qqq", "stale"]

    async def main():
        async with serving(models={"reviews": str(text_file)}, max_wait_ms=20) as client:
            replies = await asyncio.gather(*[client.post("/v1/models/reviews/predict",
                                                         json={"instances": [{"text": t}]}) for t in texts])
            empty = await client.post("/v1/models/reviews/predict", json={"instances": [{"text": " "}]})
            return [r.json() for r in replies], empty

    replies, empty = run(main())
    proba = c.predict_proba(texts)
    for reply, p, t in zip(replies, proba, texts):
        got = reply["predictions"][0]
        np.testing.assert_allclose([got["probabilities"][str(k)] for k in c.classes_], p, atol=1e-6)
        assert got["tokens"] == len(c.encode([t])[0])
    assert replies[1]["predictions"][0]["tokens"] == 12  # cut to max_length
    assert empty.status_code == 422 and "empty" in empty.json()["error"]["message"].lower()


def test_lm_generate_and_batched_sessions_equal_the_model(lm_file):
    lm = rnnkit.load(lm_file)
    pieces = [["the c", "at s", "at"], ["a d", "og"], ["the", " cat and"]]

    async def follow(client, parts):
        sid = (await client.post("/v1/models/tiny_lm/sessions", json={"top": 3})).json()["session_id"]
        outs = []
        for p in parts:
            r = await client.post(f"/v1/models/tiny_lm/sessions/{sid}/step", json={"text": p})
            assert r.status_code == 200, r.text
            outs.append(r.json())
        return outs

    async def main():
        async with serving(models={"tiny_lm": str(lm_file)}, max_wait_ms=20) as client:
            gen = await client.post("/v1/models/tiny_lm/predict", json={"instances": [
                {"prompt": "the ", "max_tokens": 12, "temperature": 0.7, "seed": 3}]})
            both = await client.post("/v1/models/tiny_lm/sessions/x/step", json={"text": "a", "tokens": [4]})
            greedy = await client.post("/v1/models/tiny_lm/predict", json={"instances": [
                {"prompt": "a", "max_tokens": 2000}] * 5})
            assert greedy.status_code == 422 and "at most 8192" in greedy.json()["error"]["message"]
            return gen, await asyncio.gather(*[follow(client, p) for p in pieces]), both

    gen, sessions, both = run(main())
    assert gen.json()["predictions"][0]["text"] == lm.generate("the ", 12, 0.7, None, None, 3)
    for parts, outs in zip(pieces, sessions):
        alone = lm.stream(top=3)
        for p, out in zip(parts, outs):
            want = alone.step(p)
            assert out["position"] == want.position
            np.testing.assert_allclose([t["probability"] for t in out["top"]], [p for _, p in want.top], atol=1e-6)
            assert [t["token"] for t in out["top"]] == [t for t, _ in want.top]
    assert both.status_code in (404, 422)
