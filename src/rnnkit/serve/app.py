"""The HTTP app: routes of ``../shared/DESIGN.md`` over :class:`ModelService` objects.

Each served model gets its own concrete routes, so the OpenAPI document shows its task's
request and answer schemas with an example built from the model itself; a path that
names no served model falls through to a catch-all that answers 404 with the names served.

(This module does not use ``from __future__ import annotations``: FastAPI reads the
handlers' annotations, which are built per model at run time.)
"""

import asyncio
import gc
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import Optional

import torch
from fastapi import Body, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, create_model
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from rnnkit._version import __version__
from rnnkit.errors import DataError, RnnkitError, nearest
from rnnkit.serve.adapters.base import Strict
from rnnkit.serve.batching import QueueFull
from rnnkit.serve.config import ServeConfig
from rnnkit.serve.connections import METRICS_STATE
from rnnkit.serve.docs_ui import add_docs_routes, assets_dir
from rnnkit.serve.metrics import ServerMetrics
from rnnkit.serve.middleware import ARRIVED, BodyTooLarge, Guard
from rnnkit.serve.openapi_example import answer_example, instance_example, step_example
from rnnkit.serve.responses import error_json, error_responses
from rnnkit.serve.service import ModelService
from rnnkit.serve.sessions import SessionGone

log = logging.getLogger("rnnkit.serve")


class SessionInfo(BaseModel):
    session_id: str
    model: str
    ttl_s: float = Field(description="The session closes after this long without a step.")


class Closed(BaseModel):
    session_id: str
    closed: bool
    steps: int


class ModelList(BaseModel):
    models: list[dict]


class RequestTimeout(RnnkitError):
    pass


def create_app(config: ServeConfig, *, estimators: Optional[dict] = None) -> FastAPI:
    """The app serving ``config.models`` (loaded now: a bad file fails here, before any
    port is bound). ``estimators`` maps names to already fitted estimators instead."""
    if config.torch_threads:
        torch.set_num_threads(config.torch_threads)
    metrics = ServerMetrics()
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rnnkit-infer")
    services: dict[str, ModelService] = {}
    for name, est in (estimators or {}).items():
        services[name] = ModelService(name, f"<{type(est).__name__}>", config, metrics, executor, est)
    for name, path in config.models.items():
        services[name] = ModelService(name, path, config, metrics, executor)
    state = {"ready": False}

    @asynccontextmanager
    async def lifespan(app):
        for s in services.values():
            s.start()
        sweeper = asyncio.get_running_loop().create_task(_sweep(services, config.session_ttl_s))
        gc.collect()
        gc.freeze()  # the models and libraries stay put: full collections skip them (no long pauses)
        state["ready"] = True
        try:
            yield {METRICS_STATE: metrics}  # uvicorn hands this state to the guarded connections
        finally:  # graceful: uvicorn has stopped taking connections and finished the open ones
            state["ready"] = False
            sweeper.cancel()
            for s in services.values():
                await s.close()
            executor.shutdown(wait=True)

    assets = assets_dir()
    app = FastAPI(title="rnnkit model server", version=__version__, lifespan=lifespan,
                  description="Recurrent models served with dynamic batching and stateful "
                              "streaming sessions. Errors: `{\"error\": {status, type, message}}`.",
                  **({} if assets is None else {"docs_url": None, "redoc_url": None}))
    if assets is not None:
        add_docs_routes(app, assets)
    else:
        log.warning("package fastapi-offline not found: /docs and /redoc load their scripts from a "
                    "CDN and stay blank offline (pip install 'rnnkit[serve]')")
    app.state.services, app.state.metrics, app.state.config = services, metrics, config
    _handlers(app)
    _common_routes(app, services, metrics, state)
    for s in services.values():
        _model_routes(app, s, config)
    _fallback_routes(app, services)
    app.add_middleware(Guard, metrics=metrics, models=services, max_body_bytes=config.max_body_bytes,
                       api_key=config.api_key, open_paths=config.open_paths)
    return app


async def _sweep(services, ttl_s: float) -> None:
    while True:
        await asyncio.sleep(max(1.0, min(ttl_s / 4, 60.0)))
        for s in services.values():
            s.sessions.sweep()


# ---- errors -----------------------------------------------------------------------------
def _handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, err: RequestValidationError):
        errors = err.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            ctx = errors[0].get("ctx", {})
            return error_json(400, "MalformedJSON", f"request body is not valid JSON: "
                              f"{ctx.get('error', 'parse error')} (send a JSON object with "
                              "Content-Type: application/json)")
        if len(errors) == 1 and tuple(errors[0].get("loc", ())) == ("body",) and \
                errors[0].get("type") in ("model_attributes_type", "dict_type", "missing"):
            return error_json(400, "MalformedJSON", "request body: expected a JSON object "
                              "(Content-Type: application/json), got "
                              + ("nothing" if errors[0].get("type") == "missing" else "another value"))
        return error_json(422, "ValidationError", "; ".join(_describe(e) for e in errors[:5]))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, err: StarletteHTTPException):
        kind = {404: "NotFound", 405: "MethodNotAllowed"}.get(err.status_code, "HTTPError")
        return error_json(err.status_code, kind, str(err.detail), getattr(err, "headers", None))

    @app.exception_handler(SessionGone)
    async def gone(request: Request, err: SessionGone):
        return error_json(404, "SessionNotFound", str(err))

    @app.exception_handler(QueueFull)
    async def busy(request: Request, err: QueueFull):
        return error_json(503, "Busy", str(err), {"retry-after": "1"})

    @app.exception_handler(RequestTimeout)
    async def late(request: Request, err: RequestTimeout):
        return error_json(504, "Timeout", str(err))

    @app.exception_handler(BodyTooLarge)
    async def too_large(request: Request, err: BodyTooLarge):
        return error_json(413, "PayloadTooLarge", str(err))

    @app.exception_handler(RnnkitError)
    async def bad_input(request: Request, err: RnnkitError):
        return error_json(422, type(err).__name__, str(err))

    @app.exception_handler(Exception)
    async def crash(request: Request, err: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_json(500, "InternalError", f"{type(err).__name__}: {err}")


def _describe(e: dict) -> str:
    where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
    return f"{where}: {e.get('msg', 'invalid')}"


# ---- routes -----------------------------------------------------------------------------
def _common_routes(app: FastAPI, services, metrics: ServerMetrics, state) -> None:
    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], responses=error_responses(503))
    async def readyz():
        """Readiness: models loaded and batchers running (503 while starting or stopping)."""
        if not state["ready"]:
            return error_json(503, "NotReady", "server is starting or shutting down")
        return {"status": "ready", "models": sorted(services)}

    @app.get("/metrics", tags=["health"], response_class=Response)
    async def prometheus():
        """Prometheus exposition (text format 0.0.4)."""
        for s in services.values():
            s.refresh_gauges()
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    @app.get("/v1/models", tags=["models"], response_model=ModelList, responses=error_responses(401))
    async def list_models():
        """Every served model: task, inputs, outputs, sessions, metrics from its file."""
        return {"models": [_describe_model(s) for s in services.values()]}


def _describe_model(s: ModelService) -> dict:
    return {**s.adapter.describe(), "file": s.path, "load_seconds": round(s.load_seconds, 4)}


def _wrap(title: str, field: str, item_type, example, max_len: int):
    model = create_model(title, __base__=Strict,
                         **{field: (list[item_type], Field(min_length=1, max_length=max_len))})
    extra = {"examples": [{field: [example]}]} if example is not None else \
        {"description": "No example: this model's instances are too long to show."}
    model.model_config = {**Strict.model_config, "json_schema_extra": extra}
    model.model_rebuild(force=True)
    return model


def _deadline(request: Request, timeout: float) -> float:
    """When the request's time is up: ``request_timeout_s`` after it arrived (before its
    body was read), on the ``time.perf_counter`` clock."""
    return request.scope.get(ARRIVED, time.perf_counter()) + timeout


def _checked(prepare, *args, where: str):
    """``prepare(*args)``; a RnnkitError gets ``where`` in front, and a value that a library
    cannot represent (an OverflowError or ValueError, e.g. a date out of pandas' range)
    becomes a DataError too: hostile input is a 422, never a 500."""
    try:
        return prepare(*args)
    except RnnkitError as err:
        raise type(err)(f"{where}{err}") from None
    except (OverflowError, ValueError) as err:
        raise DataError(f"{where}cannot be read: {type(err).__name__}: {err}") from None


def _prepare_all(a, instances) -> list:
    prepared = [_checked(a.prepare, instance, where=f"instances[{i}]: ")
                for i, instance in enumerate(instances)]
    a.check_request(prepared)
    return prepared


async def _answers(futures, deadline: float, timeout: float) -> list:
    """Every instance's answer; the first refused instance fails the request, named."""
    results = await _within(asyncio.gather(*futures, return_exceptions=True), deadline, futures, timeout)
    for i, r in enumerate(results):
        if isinstance(r, RnnkitError):
            raise type(r)(f"instances[{i}]: {r}") from None
        if isinstance(r, BaseException):
            raise r
    return results


def _model_routes(app: FastAPI, s: ModelService, config: ServeConfig) -> None:
    a, name = s.adapter, s.name
    tag = f"model {name}"
    slug = "".join(ch if ch.isalnum() else "_" for ch in name)
    Request_ = _wrap(f"PredictRequest_{slug}", "instances", a.Instance, instance_example(a),
                     config.max_instances)
    Response_ = create_model(f"PredictResponse_{slug}", model=(str, ...),
                             predictions=(list[a.Prediction], ...))
    timeout = config.request_timeout_s

    @app.get(f"/v1/models/{name}", tags=[tag], responses=error_responses(401))
    async def describe() -> dict:
        return _describe_model(s)

    async def predict(body: Request_, request: Request) -> Response_:
        deadline = _deadline(request, timeout)
        prepared = _prepare_all(a, body.instances)
        futures = s.predict_batcher.submit([p.payload for p in prepared], [p.length for p in prepared])
        results = await _answers(futures, deadline, timeout)
        for p in prepared:  # answered: now (and only now) they count for drift
            s.observe(p.rows)
        return Response_(model=name, predictions=results)

    app.post(f"/v1/models/{name}/predict", tags=[tag], response_model=Response_,
             summary=f"Predict with {name} ({a.task})",
             responses={**answer_example(a, name), **error_responses(400, 401, 413, 422, 503, 504)})(predict)
    if a.SessionOpen is None or not a.describe().get("sessions", True):
        return

    Open_ = a.SessionOpen
    Step_ = create_model(f"Step_{slug}", __base__=a.Step)
    one_step = step_example(a)
    Step_.model_config = {**Strict.model_config,
                          "json_schema_extra": {"examples": [one_step]} if one_step is not None else {}}
    Step_.model_rebuild(force=True)

    async def open_session(body: Optional[Open_] = Body(None)) -> SessionInfo:
        session = s.sessions.open(a.open_session(body))
        return SessionInfo(session_id=session.id, model=name, ttl_s=config.session_ttl_s)

    async def step(session_id: str, body: Step_, request: Request) -> a.StepOutput:
        deadline = _deadline(request, timeout)
        session = s.sessions.get(session_id)
        async with session.lock:
            s.sessions.get(session_id)  # closed while this step waited: 404 that says why
            prepared = _checked(a.prepare_step, session.state, body, where="")
            if prepared.length > config.max_steps:
                raise BodyTooLarge(f"step: expected at most max_steps={config.max_steps} time "
                                   f"steps, got {prepared.length}; send them in several steps")
            _within_left(deadline, timeout)  # late already (waited for the lock): nothing changed
            futures = s.step_batcher.submit([(session.state, prepared.payload)], [1])
            try:
                out, new_state = await _within(futures[0], deadline, futures, timeout)
            except RequestTimeout:
                s.sessions.close(session_id, f"it was closed because a step timed out after "
                                 f"{timeout:g} s (request_timeout_s)", "timeout")
                raise
            session.state = new_state  # answered: the step's state becomes the session's
            session.steps += prepared.length
            s.observe(prepared.rows)
        return out

    async def close(session_id: str) -> Closed:
        session = s.sessions.close(session_id)
        return Closed(session_id=session_id, closed=True, steps=session.steps)

    app.post(f"/v1/models/{name}/sessions", tags=[tag], status_code=201, response_model=SessionInfo,
             summary=f"Open a streaming session on {name}",
             responses=error_responses(400, 401, 413, 422))(open_session)
    app.post(f"/v1/models/{name}/sessions/{{session_id}}/step", tags=[tag], response_model=a.StepOutput,
             summary="Send the next time step(s); get their outputs",
             responses=error_responses(400, 401, 404, 413, 422, 503, 504))(step)
    app.delete(f"/v1/models/{name}/sessions/{{session_id}}", tags=[tag], response_model=Closed,
               summary="Close a session", responses=error_responses(401, 404))(close)


def _late(timeout: float) -> RequestTimeout:
    return RequestTimeout(f"request took longer than request_timeout_s={timeout:g} s (counted "
                          "from its arrival); the server is overloaded or the payload is very long")


def _within_left(deadline: float, timeout: float) -> float:
    """Seconds left before ``deadline``; a RequestTimeout when none are."""
    left = deadline - time.perf_counter()
    if left <= 0:
        raise _late(timeout)
    return left


async def _within(awaitable, deadline: float, futures, timeout: float):
    """``awaitable``'s result, or a RequestTimeout at ``deadline`` (``futures`` cancelled:
    the batcher drops instances whose request gave up)."""
    try:
        return await asyncio.wait_for(awaitable, max(deadline - time.perf_counter(), 0.0))
    except asyncio.TimeoutError:
        for f in futures:
            f.cancel()
        raise _late(timeout) from None


def _fallback_routes(app: FastAPI, services) -> None:
    def unknown(name: str):
        guess = nearest(name, services)
        hint = f"did you mean {guess!r}? " if guess else ""
        raise StarletteHTTPException(404, f"unknown model {name!r}: {hint}served models: "
                                     f"{sorted(services)} (GET /v1/models lists them)")

    async def model_404(name: str):
        unknown(name)

    async def session_404(name: str, session_id: str):
        unknown(name)

    for path, methods, fn in [("/v1/models/{name}", ["GET"], model_404),
                              ("/v1/models/{name}/predict", ["POST"], model_404),
                              ("/v1/models/{name}/sessions", ["POST"], model_404),
                              ("/v1/models/{name}/sessions/{session_id}/step", ["POST"], session_404),
                              ("/v1/models/{name}/sessions/{session_id}", ["DELETE"], session_404)]:
        app.add_api_route(path, fn, methods=methods, include_in_schema=False)
