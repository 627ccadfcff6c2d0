"""ASGI middleware in front of every route: API key, body size limit, metrics.

Plain ASGI (no per-request task or body copy) so it costs microseconds:

* When an API key is configured, every path needs it except ``open_paths`` (default
  ``/healthz`` and ``/readyz``, matched exactly; an entry ending in ``/`` opens what lies
  under it): ``/docs``, ``/redoc``, ``/openapi.json`` (its examples hold real predictions
  and training statistics), ``/metrics``, ``/v1/*`` and unknown paths too, so a 404 never
  names the served models to a client without the key. ``Authorization: Bearer KEY`` or
  ``X-API-Key: KEY``, compared in constant time; else 401.
* Each request's arrival time is stored in its scope (:data:`ARRIVED`), so the
  per-request timeout counts from arrival, not from when the body was parsed.
* A body over ``max_body_bytes`` is refused with 413, by its ``Content-Length`` or, for a
  chunked body, as soon as the bytes read pass the limit.
* Each answered request counts in ``rnnkit_requests_total`` and its latency in
  ``rnnkit_request_latency_seconds``, labelled by model, endpoint and status.
"""

from __future__ import annotations

import hmac
import json
import time

from rnnkit.serve.metrics import UNKNOWN, ServerMetrics

ARRIVED = "rnnkit.arrived"  # scope key: time.perf_counter() when the request arrived


class BodyTooLarge(Exception):
    """A chunked body passed the limit while being read (the app answers 413)."""


def endpoint_of(method: str, path: str, models) -> tuple[str, str]:
    """``(model label, endpoint label)`` of a request path."""
    parts = [p for p in path.split("/") if p]
    if parts[:2] != ["v1", "models"]:
        return "", {"metrics": "metrics", "healthz": "health", "readyz": "health",
                    "docs": "docs", "openapi.json": "docs"}.get(parts[0] if parts else "", "other")
    if len(parts) == 2:
        return "", "models"
    model = parts[2] if parts[2] in models else UNKNOWN
    rest = parts[3:]
    if not rest:
        return model, "model"
    if rest == ["predict"]:
        return model, "predict"
    if rest == ["sessions"]:
        return model, "session_open"
    if len(rest) == 3 and rest[0] == "sessions" and rest[2] == "step":
        return model, "session_step"
    if len(rest) == 2 and rest[0] == "sessions":
        return model, "session_close" if method == "DELETE" else "session"
    return model, "other"


class Guard:
    def __init__(self, app, *, metrics: ServerMetrics, models, max_body_bytes: int,
                 api_key: str | None, open_paths=("/healthz", "/readyz")) -> None:
        self.app, self.metrics, self.models = app, metrics, models
        self.max_body = max_body_bytes
        self.api_key = api_key.encode() if api_key else None
        self.open_exact = frozenset(p for p in open_paths if not p.endswith("/"))
        self.open_under = tuple(p for p in open_paths if p.endswith("/"))

    def is_open(self, scope) -> bool:
        """Whether the request's path needs no API key (relative to the app's root path)."""
        path, root = scope["path"], scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root):] or "/"
        return path in self.open_exact or path.startswith(self.open_under)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = scope[ARRIVED] = time.perf_counter()
        model, endpoint = endpoint_of(scope["method"], scope["path"], self.models)
        status = {"code": 500, "started": False, "over": False}

        async def send_counted(message):
            if status["over"]:  # the body passed the limit: our 413 replaces the app's answer
                if message["type"] == "http.response.start" and not status["started"]:
                    status["code"], status["started"] = 413, True
                    await _send_error(send, 413, "PayloadTooLarge", self._too_large_text())
                return
            if message["type"] == "http.response.start":
                status["code"], status["started"] = message["status"], True
            await send(message)

        try:
            refusal = self._refusal(scope)
            if refusal is not None:
                await _send_error(send_counted, *refusal)
            else:
                await self.app(scope, self._limited(receive, status), send_counted)
        except BodyTooLarge:
            if not status["started"]:
                status["code"], status["started"] = 413, True
                await _send_error(send, 413, "PayloadTooLarge", self._too_large_text())
        finally:
            self.metrics.requests.labels(model, endpoint, str(status["code"])).inc()
            self.metrics.latency.labels(model, endpoint).observe(time.perf_counter() - start)

    def _refusal(self, scope) -> tuple[int, str, str, dict] | None:
        headers = dict(scope["headers"])
        if self.api_key is not None and not self.is_open(scope):
            given = headers.get(b"x-api-key")
            auth = headers.get(b"authorization", b"")
            if given is None and auth[:7].lower() == b"bearer ":
                given = auth[7:].strip()
            if given is None or not hmac.compare_digest(given, self.api_key):
                what = "missing" if given is None else "wrong"
                return (401, "Unauthorized", f"{what} API key: send it as 'Authorization: Bearer KEY' "
                        "or 'X-API-Key: KEY' (the key the server was started with, --api-key-env)",
                        {"www-authenticate": "Bearer"})
        length = headers.get(b"content-length")
        if length is not None:
            try:
                n = int(length)
            except ValueError:
                return 400, "BadRequest", f"Content-Length {length!r} is not a number", {}
            if n > self.max_body:
                return 413, "PayloadTooLarge", self._too_large_text(n), {}
        return None

    def _too_large_text(self, n: int | None = None) -> str:
        got = f"{n} bytes" if n is not None else "more"
        return (f"request body: expected at most {self.max_body} bytes (max_body_bytes), got {got}; "
                "split the request or raise --max-body-bytes")

    def _limited(self, receive, status: dict):
        seen = {"n": 0}

        async def wrapped():
            message = await receive()
            if message["type"] == "http.request":
                seen["n"] += len(message.get("body", b""))
                if seen["n"] > self.max_body:
                    status["over"] = True
                    raise BodyTooLarge(self._too_large_text())
            return message
        return wrapped


async def _send_error(send, status: int, kind: str, message: str, headers: dict | None = None):
    body = json.dumps({"error": {"status": status, "type": kind, "message": message}}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})
