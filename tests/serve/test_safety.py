"""Bad requests get a 4xx with a message; the server keeps serving."""

import json

from serve_helpers import example, run, serving

KEY = "s3cret-key-for-tests"


def post(c, path, body: bytes, **headers):
    return c.post(path, content=body, headers={"content-type": "application/json", **headers})


def with_value(body: dict, literal: str) -> bytes:
    """``body`` as JSON text with its first ``y`` value replaced by ``literal``."""
    marked = json.loads(json.dumps(body))
    marked["instances"][0]["values"]["y"][0] = "MARK"
    return json.dumps(marked).replace('"MARK"', literal).encode()


def test_every_bad_request_is_a_4xx_with_a_message(forecaster_file):
    async def main():
        async with serving(models={"daily": str(forecaster_file)}, max_body_bytes=20_000,
                           max_instances=4) as c:
            good = example(c, "PredictRequest_daily")
            one = good["instances"][0]
            cases = {
                "malformed": await post(c, "/v1/models/daily/predict", b'{"instances": [}'),
                "not an object": await post(c, "/v1/models/daily/predict", b'[1, 2]'),
                "empty body": await post(c, "/v1/models/daily/predict", b""),
                "nan": await post(c, "/v1/models/daily/predict", with_value(good, "NaN")),
                "infinity": await post(c, "/v1/models/daily/predict", with_value(good, "-Infinity")),
                "string value": await c.post("/v1/models/daily/predict", json={
                    "instances": [{**one, "values": {**one["values"], "y": ["a"] * len(one["time"])}}]}),
                "short": await c.post("/v1/models/daily/predict", json={
                    "instances": [{"time": one["time"][:3], "values": {k: v[:3] for k, v in one["values"].items()}}]}),
                "ragged": await c.post("/v1/models/daily/predict", json={
                    "instances": [{**one, "values": {**one["values"], "y": one["values"]["y"][:-1]}}]}),
                "unknown column": await c.post("/v1/models/daily/predict", json={
                    "instances": [{**one, "values": {**one["values"], "z": one["values"]["y"]}}]}),
                "extra field": await c.post("/v1/models/daily/predict", json={**good, "foo": 1}),
                "no instances": await c.post("/v1/models/daily/predict", json={"instances": []}),
                "too many instances": await c.post("/v1/models/daily/predict", json={"instances": [one] * 5}),
                "oversized": await post(c, "/v1/models/daily/predict", b" " * 30_000),
                "bad dates": await c.post("/v1/models/daily/predict", json={
                    "instances": [{**one, "time": ["not a date"] * len(one["time"])}]}),
                "unknown model": await c.post("/v1/models/dialy/predict", json=good),
                "unknown session": await c.post("/v1/models/daily/sessions/abc/step",
                                                json=example(c, "Step_daily")),
                "delete unknown": await c.delete("/v1/models/daily/sessions/abc"),
                "wrong method": await c.get("/v1/models/daily/predict"),
            }
            still = await c.post("/v1/models/daily/predict", json=good)
            return cases, still

    cases, still = run(main())
    expected = {"malformed": 400, "not an object": 400, "empty body": 400, "oversized": 413,
                "unknown model": 404, "unknown session": 404, "delete unknown": 404, "wrong method": 405}
    for name, reply in cases.items():
        want = expected.get(name, 422)
        assert reply.status_code == want, (name, reply.status_code, reply.text)
        error = reply.json()["error"]
        assert error["status"] == want and len(error["message"]) > 10, (name, error)
    assert "did you mean 'daily'" in cases["unknown model"].json()["error"]["message"]
    assert "not open" in cases["unknown session"].json()["error"]["message"]
    assert "unknown column 'z'" in cases["unknown column"].json()["error"]["message"]
    assert "max_body_bytes" in cases["oversized"].json()["error"]["message"]
    assert still.status_code == 200


def test_api_key_is_required_except_on_open_paths(forecaster_file):
    async def main():
        async with serving(models={"daily": str(forecaster_file)}, api_key=KEY) as c:
            return {"none": await c.get("/v1/models"),
                    "wrong": await c.get("/v1/models", headers={"x-api-key": "wrong-key-123"}),
                    "header": await c.get("/v1/models", headers={"x-api-key": KEY}),
                    "bearer": await c.get("/v1/models", headers={"authorization": f"Bearer {KEY}"}),
                    "health": await c.get("/healthz"), "metrics": await c.get("/metrics"),
                    "metrics_key": await c.get("/metrics", headers={"x-api-key": KEY})}

    r = run(main())
    assert r["none"].status_code == 401 and "missing API key" in r["none"].json()["error"]["message"]
    assert r["wrong"].status_code == 401 and "wrong API key" in r["wrong"].json()["error"]["message"]
    assert r["header"].status_code == 200 and r["bearer"].status_code == 200
    assert r["health"].status_code == 200 and r["metrics"].status_code == 401
    assert r["metrics_key"].status_code == 200


def test_chunked_body_over_the_limit_is_refused(forecaster_file):
    async def chunks():
        for _ in range(10):
            yield b" " * 5000

    async def main():
        async with serving(models={"daily": str(forecaster_file)}, max_body_bytes=20_000) as c:
            return await c.post("/v1/models/daily/predict", content=chunks(),
                                headers={"content-type": "application/json"})

    reply = run(main())
    assert reply.status_code == 413, reply.text


def test_openapi_has_every_route_with_examples(forecaster_file, detector_file):
    async def main():
        async with serving(models={"daily": str(forecaster_file), "sensors": str(detector_file)}) as c:
            return (await c.get("/openapi.json")).json()

    spec = run(main())
    paths = spec["paths"]
    for name in ("daily", "sensors"):
        assert f"/v1/models/{name}/predict" in paths
        assert f"/v1/models/{name}/sessions/{{session_id}}/step" in paths
        assert "examples" in spec["components"]["schemas"][f"PredictRequest_{name}"]
        responses = paths[f"/v1/models/{name}/predict"]["post"]["responses"]
        assert set(responses) >= {"200", "400", "422", "413"}
        example = responses["200"]["content"]["application/json"]["example"]
        assert example["model"] == name and len(example["predictions"]) == 1  # a real answer
    assert "/v1/models/{name}/predict" not in paths  # the 404 catch-all stays out of the schema
