"""Hostile request bodies on every route: always one clear 4xx line, never a 5xx or a
traceback; timestamps at the edges of pandas' range are refused, never wrapped."""

import asyncio
import json

import httpx
import numpy as np
import pytest
from security_helpers import serving


def days(first: str, n: int = 14) -> list[str]:
    return [str(np.datetime64(first) + np.timedelta64(i, "D")) for i in range(n)]


def ending(last: str, n: int = 14) -> list[str]:
    return [str(np.datetime64(last) - np.timedelta64(n - 1 - i, "D")) for i in range(n)]


def instance(times: list[str], y: float = 10.0) -> dict:
    n = len(times)
    return {"time": times, "values": {"y": [y] * n, "x": [0.0] * n}}


def assert_refused(r: httpx.Response, status: int = 422, *words: str) -> str:
    assert r.status_code == status, (r.status_code, r.text)
    message = r.json()["error"]["message"]
    assert "\n" not in message and "Traceback" not in message, message
    for w in words:
        assert w in message, message
    return message


def test_timestamps_outside_pandas_range_are_422(forecaster_file):
    cases = {"1677-09-20": days("1677-09-20"),                         # starts before the range
             "9999-01-01": days("9999-01-01"),                         # numpy would wrap it to 1815
             "2262-04-10": ending("2262-04-10")}                     # its forecast runs past the end

    async def main():
        async with serving(models={"daily": str(forecaster_file)}) as c:
            out = {k: await c.post("/v1/models/daily/predict", json={"instances": [instance(t)]})
                   for k, t in cases.items()}
            sid = (await c.post("/v1/models/daily/sessions")).json()["session_id"]
            for t in ("2262-04-11", "2262-04-12"):
                out[t] = await c.post(f"/v1/models/daily/sessions/{sid}/step", json=instance([t]))
            out["health"] = await c.get("/healthz")
            return out

    r = asyncio.run(main())
    assert_refused(r["1677-09-20"], 422, "time[0]", "1677-09-21 00:12:44 to 2262-04-11")
    assert_refused(r["9999-01-01"], 422, "time[0]", "'9999-01-01'")
    assert_refused(r["2262-04-10"], 422, "a horizon of 3 steps", "2262-04-10")  # forecast would wrap
    assert_refused(r["2262-04-11"], 422, "step", "a horizon of 3 steps")
    assert_refused(r["2262-04-12"], 422, "step: time", "2262-04-12")
    assert r["health"].status_code == 200


def test_a_forecast_near_the_end_keeps_its_real_timestamps(forecaster_file):
    times = ending("2262-04-08")

    async def main():
        async with serving(models={"daily": str(forecaster_file)}) as c:
            return await c.post("/v1/models/daily/predict", json={"instances": [instance(times)]})

    r = asyncio.run(main())
    assert r.status_code == 200, r.text
    assert r.json()["predictions"][0]["time"] == ["2262-04-09T00:00:00", "2262-04-10T00:00:00",
                                                  "2262-04-11T00:00:00"]


GOOD = instance(days("2024-06-01"))
HOSTILE = {  # name -> raw body bytes
    "number as string": json.dumps({"instances": [{**GOOD, "values": {"y": ["1.0"] * 14, "x": [0.0] * 14}}]}),
    "huge int": '{"instances": [{"time": %s, "values": {"y": [%s], "x": [0.0]}}]}'
                % (json.dumps(GOOD["time"][:1]), "1" + "0" * 400),
    "huge int everywhere": json.dumps(GOOD).replace("10.0", "1" + "0" * 400),
    "NaN token": json.dumps({"instances": [GOOD]}).replace("10.0", "NaN", 1),
    "Infinity token": json.dumps({"instances": [GOOD]}).replace("10.0", "-Infinity", 1),
    "1e999": json.dumps({"instances": [GOOD]}).replace("10.0", "1e999", 1),
    "1e300": json.dumps({"instances": [GOOD]}).replace("10.0", "1e300", 1),
    "nested arrays": json.dumps({"instances": [{**GOOD, "values": {"y": [[[1.0]]] * 14, "x": [0.0] * 14}}]}),
    "time as numbers": json.dumps({"instances": [{**GOOD, "time": list(range(14))}]}),
    "time as garbage": json.dumps({"instances": [{**GOOD, "time": ["x"] * 14}]}),
    "time year 0": json.dumps({"instances": [{**GOOD, "time": ["0000-01-01"] * 14}]}),
    "time huge year": json.dumps({"instances": [{**GOOD, "time": ["99999999-01-01"] * 14}]}),
    "empty time": json.dumps({"instances": [{**GOOD, "time": []}]}),
    "instances not a list": json.dumps({"instances": GOOD}),
    "instances empty": json.dumps({"instances": []}),
    "top-level list": json.dumps([GOOD]),
    "top-level string": json.dumps("hello"),
    "null": "null",
    "not json": "{instances: ]",
    "deep nesting": "[" * 50_000 + "]" * 50_000,
    "unknown field": json.dumps({"instances": [GOOD], "extra": 1}),
    "id as object": json.dumps({"instances": [{**GOOD, "id": {"a": 1}}]}),
    "static huge": json.dumps({"instances": [{**GOOD, "static": {"s": 1e308}}]}),
    "bool values": json.dumps({"instances": [{**GOOD, "values": {"y": [True] * 14, "x": [0.0] * 14}}]}),
    "utf-16 body": json.dumps({"instances": [GOOD]}).encode("utf-16").decode("latin-1"),
}
STEP_HOSTILE = {
    "huge int": '{"time": ["2024-01-01"], "values": {"y": [%s], "x": [0.0]}}' % ("9" * 400),
    "1e308": '{"time": ["2024-01-01"], "values": {"y": [1e308], "x": [0.0]}}',
    "NaN": '{"time": ["2024-01-01"], "values": {"y": [NaN], "x": [0.0]}}',
    "time garbage": '{"time": [["2024"]], "values": {"y": [1.0], "x": [0.0]}}',
    "time year 10000": '{"time": ["10000-01-01"], "values": {"y": [1.0], "x": [0.0]}}',
    "values list": '{"time": ["2024-01-01"], "values": [1.0, 0.0]}',
    "empty": "{}",
    "not json": "{{",
}


def test_no_hostile_body_gets_a_5xx(forecaster_file):
    async def main():
        async with serving(models={"daily": str(forecaster_file)}) as c:
            h = {"content-type": "application/json"}
            out = {}
            for name, body in HOSTILE.items():
                out[f"predict {name}"] = await c.post("/v1/models/daily/predict", content=body, headers=h)
                out[f"open {name}"] = await c.post("/v1/models/daily/sessions", content=body, headers=h)
            sid = (await c.post("/v1/models/daily/sessions")).json()["session_id"]
            for name, body in STEP_HOSTILE.items():
                out[f"step {name}"] = await c.post(f"/v1/models/daily/sessions/{sid}/step", content=body,
                                                   headers=h)
            out["after"] = await c.post(f"/v1/models/daily/sessions/{sid}/step",
                                        json=instance(["2024-01-01"]))
            out["health"] = await c.get("/healthz")
            return out

    r = asyncio.run(main())
    for name, resp in r.items():
        assert resp.status_code < 500, (name, resp.status_code, resp.text[:500])
    for name, resp in r.items():
        if name not in ("after", "health", "open null"):  # a session needs no body
            assert 400 <= resp.status_code < 500, (name, resp.text[:300])
            assert_refused(resp, resp.status_code)
    assert_refused(r["predict 1e300"], 422, "values['y'][0]", "1e+300", "float32")
    assert_refused(r["step 1e308"], 422, "step: values['y'][0]", "1e+308")
    assert r["after"].status_code == 200, r["after"].text  # the refused steps changed nothing
    assert r["after"].json()["rows_seen"] == 1
    assert r["health"].status_code == 200


@pytest.mark.parametrize("path", ["/v1/models/daily/sessions/nope/step", "/v1/models/nope/predict",
                                  "/v1/models/daily/sessions/nope"])
def test_unknown_ids_are_404_with_one_line(forecaster_file, path):
    async def main():
        async with serving(models={"daily": str(forecaster_file)}) as c:
            if path.endswith("/sessions/nope"):
                return await c.delete(path)
            return await c.post(path, json=GOOD)

    assert_refused(asyncio.run(main()), 404, "nope")


def test_the_request_timeout_counts_from_arrival_not_from_parsing(forecaster_file):
    """A body that trickles in for 0.5 s uses up a 0.3 s budget before it is parsed."""
    body = json.dumps({"instances": [GOOD]}).encode()

    async def trickle():
        yield body[:10]
        await asyncio.sleep(0.5)
        yield body[10:]

    async def main():
        async with serving(models={"daily": str(forecaster_file)}, request_timeout_s=0.3) as c:
            slow = await c.post("/v1/models/daily/predict", content=trickle(),
                                headers={"content-type": "application/json"})
            fast = await c.post("/v1/models/daily/predict", json={"instances": [GOOD]})
            return slow, fast

    slow, fast = asyncio.run(main())
    assert_refused(slow, 504, "request_timeout_s=0.3 s (counted from its arrival)")
    assert fast.status_code == 200, fast.text


def test_the_openapi_example_is_built_within_a_budget(forecaster_file):
    """A config that an old rnnkit accepted (lookback=3e7) would make a 3e7-row example:
    the server starts at once with a schema-only example instead."""
    import time

    import rnnkit
    from rnnkit.serve import ServeConfig, create_app

    f = rnnkit.load(forecaster_file)
    object.__setattr__(f.config, "lookback", 30_000_000)
    f.lookback_ = 30_000_000  # what the server reads: the fitted window
    start = time.perf_counter()
    app = create_app(ServeConfig(), estimators={"huge": f})
    doc = app.openapi()
    took = time.perf_counter() - start
    schemas = doc["components"]["schemas"]
    assert "examples" not in schemas["PredictRequest_huge"]
    assert "too long to show" in schemas["PredictRequest_huge"]["description"]
    assert len(json.dumps(doc)) < 200_000 and took < 10, (len(json.dumps(doc)), took)
    assert "200" in doc["paths"]["/v1/models/huge/predict"]["post"]["responses"]
