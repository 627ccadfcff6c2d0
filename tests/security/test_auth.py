"""With an API key, every path but ``open_paths`` (default /healthz, /readyz) needs it:
docs, OpenAPI document, metrics, /v1/* and unknown paths, so nothing leaks without it."""

import asyncio
import hmac

import pytest
from security_helpers import serving

KEY = "s3cret-key-0123456789"
CLOSED = [("GET", "/docs"), ("GET", "/redoc"), ("GET", "/openapi.json"), ("GET", "/metrics"),
          ("GET", "/v1/models"), ("GET", "/v1/models/daily"), ("POST", "/v1/models/daily/predict"),
          ("POST", "/v1/models/daily/sessions"), ("POST", "/v1/models/daily/sessions/abc/step"),
          ("DELETE", "/v1/models/daily/sessions/abc"), ("GET", "/v1/models/dialy"),
          ("POST", "/v1/models/nope/predict"), ("GET", "/nope"), ("GET", "/static-docs/swagger-ui.css"),
          ("OPTIONS", "/v1/models"), ("HEAD", "/openapi.json")]
OPEN = [("GET", "/healthz"), ("GET", "/readyz")]




def _answers(forecaster_file, headers: dict, paths, **config) -> dict:
    async def main():
        async with serving(models={"daily": str(forecaster_file)}, api_key=KEY, **config) as c:
            return {(m, p): await c.request(m, p, headers=headers) for m, p in paths}
    return asyncio.run(main())


@pytest.mark.parametrize("headers", [{}, {"x-api-key": "wrong-key-0000"}, {"authorization": "Bearer nope"},
                                     {"authorization": f"Basic {KEY}"}])
def test_every_path_but_the_open_ones_needs_the_key(forecaster_file, headers):
    answers = _answers(forecaster_file, headers, CLOSED + OPEN)
    for (method, path), r in answers.items():
        if (method, path) in OPEN:
            assert r.status_code == 200, (path, r.text)
            continue
        assert r.status_code == 401, (method, path, r.status_code, r.text[:200])
        assert r.headers["www-authenticate"] == "Bearer"
        if method != "HEAD":
            text = r.json()["error"]["message"]
            assert ("missing API key" if not headers or "Basic" in str(headers) else "wrong API key") in text
            assert "daily" not in r.text  # no model name leaks without the key


@pytest.mark.parametrize("headers", [{"x-api-key": KEY}, {"authorization": f"Bearer {KEY}"}])
def test_with_the_key_every_path_answers(forecaster_file, headers):
    answers = _answers(forecaster_file, headers, CLOSED + OPEN)
    codes = {k: r.status_code for k, r in answers.items()}
    assert codes[("GET", "/docs")] == codes[("GET", "/redoc")] == codes[("GET", "/openapi.json")] == 200
    assert codes[("GET", "/metrics")] == codes[("GET", "/v1/models")] == 200
    assert codes[("GET", "/v1/models/daily")] == 200
    assert codes[("POST", "/v1/models/daily/sessions")] == 201
    assert codes[("POST", "/v1/models/daily/predict")] == 400  # no body: past the key check
    assert codes[("GET", "/v1/models/dialy")] == 404
    assert "did you mean 'daily'" in answers[("GET", "/v1/models/dialy")].text  # named only with the key
    assert codes[("POST", "/v1/models/daily/sessions/abc/step")] in (400, 404)
    assert codes[("GET", "/nope")] == 404


def test_open_paths_are_settable(forecaster_file):
    open_paths = ["/healthz", "/openapi.json", "/static-docs/"]
    answers = _answers(forecaster_file, {}, [("GET", "/openapi.json"), ("GET", "/static-docs/swagger-ui.css"),
                                             ("GET", "/readyz"), ("GET", "/docs"), ("GET", "/healthz")],
                       open_paths=open_paths)
    codes = {p: r.status_code for (_, p), r in answers.items()}
    assert codes == {"/openapi.json": 200, "/static-docs/swagger-ui.css": 200, "/readyz": 401,
                     "/docs": 401, "/healthz": 200}


def test_the_key_is_compared_in_constant_time(forecaster_file, monkeypatch):
    seen, original = [], hmac.compare_digest

    def compare(a, b):
        seen.append((a, b))
        return original(a, b)

    monkeypatch.setattr("rnnkit.serve.middleware.hmac.compare_digest", compare)
    answers = _answers(forecaster_file, {"x-api-key": "wrong-key-0000"}, [("GET", "/metrics")])
    assert answers[("GET", "/metrics")].status_code == 401
    assert seen == [(b"wrong-key-0000", KEY.encode())]
