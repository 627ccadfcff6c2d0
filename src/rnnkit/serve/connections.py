"""Guarded HTTP connections: read deadlines, a header size limit, a cap on open connections
and a bounded shutdown, for a server that faces clients directly.

uvicorn has an idle (keep-alive) timeout but no deadline for reading the headers or the
body, httptools has no header size limit, and ``limit_concurrency`` answers 503 to every
request (``/healthz`` included) once stalled connections pile up. These protocol classes
add what is missing, per connection, and are passed as ``uvicorn.Config(http=...)``:

* **header deadline** (``header_timeout_s``): from the connection's start, and from the
  first byte of each later request, until its headers are complete; then 408 and close;
* **body deadline** (``body_timeout_s``): from complete headers until the body is in;
  then 408 (if no answer was started) and close;
* **header size** (``max_header_bytes``): the request line and headers are counted as they
  arrive and fed to the parser only up to the limit; one byte more is answered 431, so at
  most the limit is ever buffered;
* **connection cap** (``max_connections``, per process): a connection over it is answered
  503 at once; stalled clients are cut by their deadlines, so ``/healthz`` keeps answering;
* **shutdown** (``graceful_s``): requests in flight when the server stops get at most
  ``graceful_s``; then an unanswered one gets 503 and every connection is closed, and
  the ASGI task this leaves behind ends quietly instead of logging a traceback.

Refused connections are closed the way nginx's lingering close does it: the answer, then
end of our side, then whatever the client still sends is read and dropped for at most
:data:`LINGER_S`, so the client reads the answer instead of a connection reset.

uvicorn hooks relied on (tests/security/test_connections.py fails if an upgrade changes
them): the constructor ``(config, server_state, app_state, _loop)``; ``connection_made``,
``connection_lost``, ``data_received``, ``shutdown``; httptools' parser callbacks
``on_message_begin``, ``on_headers_complete``, ``on_message_complete``; the attributes
``self.app`` (the ASGI app each request runs), ``self.connections``, ``self.transport``,
``self.flow``, ``self.cycle`` (``response_started``, ``response_complete``,
``disconnected``, ``message_event``, ``keep_alive``), ``self.server_state.default_headers``;
for h11 ``self.conn.their_state`` and ``self.conn.trailing_data``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass

import h11
from starlette.requests import ClientDisconnect
from uvicorn.protocols.http.h11_impl import H11Protocol

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is optional in uvicorn: the h11 protocol guards the same way
    HttpToolsProtocol = None

LINGER_S = 1.0  # after a refusal, longest time the client's further bytes are read and dropped
SHUTDOWN_MARGIN_S = 1.0  # uvicorn's own cancel comes this long after our cut at graceful_s
HEAD, BODY = "head", "body"
METRICS_STATE = "rnnkit_metrics"  # the app's lifespan state key of its ServerMetrics

logger = logging.getLogger("uvicorn.error")


@dataclass(frozen=True)
class ConnectionLimits:
    """What one connection may take; the fields of ``ServeConfig`` of the same names."""
    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    max_header_bytes: int = 32 << 10
    max_connections: int = 1000
    graceful_s: float = 10.0

    @classmethod
    def from_config(cls, config) -> "ConnectionLimits":
        return cls(config.header_timeout_s, config.body_timeout_s, config.max_header_bytes,
                   config.max_connections, config.graceful_s)


def limits_of(uvicorn_config) -> ConnectionLimits:
    """The limits :func:`rnnkit.serve.runner.run` attached to uvicorn's config (defaults if none)."""
    return getattr(uvicorn_config, "connection_limits", None) or ConnectionLimits()


def _error_bytes(status: int, phrase: str, kind: str, message: str, default_headers) -> bytes:
    """A complete ``connection: close`` answer with the server's usual error body."""
    body = json.dumps({"error": {"status": status, "type": kind, "message": message}}).encode()
    head = [f"HTTP/1.1 {status} {phrase}\r\n".encode()]
    head += [name + b": " + value + b"\r\n" for name, value in default_headers]
    head.append(b"content-type: application/json\r\ncontent-length: %d\r\n"
                b"connection: close\r\n\r\n" % len(body))
    return b"".join(head) + body


class _Guard:
    """Deadlines, refusals and the shutdown cut shared by both protocols (a mixin placed
    before uvicorn's class). A subclass keeps ``self._phase`` (HEAD or BODY) up to date."""

    def __init__(self, config, server_state, app_state, _loop=None) -> None:
        super().__init__(config=config, server_state=server_state, app_state=app_state, _loop=_loop)
        self.limits = limits_of(config)
        self._phase = HEAD
        self._timer: asyncio.TimerHandle | None = None  # the deadline of the current phase
        self._shutdown_timer: asyncio.TimerHandle | None = None
        self._cut = False  # we closed this connection: its ASGI task may end quietly
        self._lingering = False
        self._asgi_app = self.app
        self.app = self._run_app

    # connection life --------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            self._refuse(503, "Service Unavailable", "Busy", "max_connections",
                         f"too many open connections (max_connections={self.limits.max_connections}); "
                         "retry later")
            return
        self._arm(HEAD)

    def connection_lost(self, exc) -> None:
        self._disarm()
        if self._shutdown_timer is not None:
            self._shutdown_timer.cancel()
        super().connection_lost(exc)

    def shutdown(self) -> None:
        """Stop reading new requests; the one in flight gets ``graceful_s`` to finish."""
        super().shutdown()
        if not self.transport.is_closing() and not self._lingering:
            self._shutdown_timer = self.loop.call_later(self.limits.graceful_s, self._shutdown_cut)

    # deadlines --------------------------------------------------------------------------
    def _arm(self, phase: str) -> None:
        self._disarm()
        seconds = self.limits.header_timeout_s if phase == HEAD else self.limits.body_timeout_s
        self._timer = self.loop.call_later(seconds, self._expired, phase)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _expired(self, phase: str) -> None:
        self._timer = None
        if phase == HEAD:
            what = f"request headers not complete within {self.limits.header_timeout_s:g} s (header_timeout_s)"
        else:
            what = f"request body not complete within {self.limits.body_timeout_s:g} s (body_timeout_s)"
        self._refuse(408, "Request Timeout", "Timeout", "header_timeout" if phase == HEAD else "body_timeout",
                     what + "; send the whole request promptly, or raise the server's timeout")

    def _shutdown_cut(self) -> None:
        self._refuse(503, "Service Unavailable", "NotReady", "shutdown",
                     f"server is shutting down (not done within graceful_s={self.limits.graceful_s:g}); retry")

    # refusal ----------------------------------------------------------------------------
    def _refuse(self, status: int, phrase: str, kind: str, reason: str, message: str) -> None:
        """Answer ``status`` unless an answer was already started, then close lingering; count
        the cut under ``reason`` in the app's ``rnnkit_connections_refused_total``."""
        if self._lingering or self.transport.is_closing():
            return
        self._disarm()
        metrics = (self.app_state or {}).get(METRICS_STATE)
        if metrics is not None:
            metrics.connections_refused.labels(reason=reason).inc()
        cycle = self.cycle
        logger.debug("%s:%s - %d %s", *(self.client or ("?", 0)), status, message)
        if cycle is None or not cycle.response_started or cycle.response_complete:
            self.transport.write(_error_bytes(status, phrase, kind, message,
                                              self.server_state.default_headers))
        if cycle is not None and not cycle.response_complete:
            self._cut = True
            cycle.disconnected = True  # the app's next receive() is a disconnect, its sends are dropped
            cycle.message_event.set()
        self._linger()

    def _linger(self) -> None:
        self._lingering = True
        self.connections.discard(self)  # neither counted against the cap nor waited for at shutdown
        self.flow.resume_reading()
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.loop.call_later(LINGER_S, self.transport.close)
        else:
            self.transport.close()

    # the ASGI task ----------------------------------------------------------------------
    async def _run_app(self, scope, receive, send) -> None:
        """Run the app; a task whose connection we cut (deadline, shutdown) ends quietly."""
        try:
            await self._asgi_app(scope, receive, send)
        except ClientDisconnect:
            if not self._cut:
                raise
        except asyncio.CancelledError:
            if not self._cut:
                raise


if HttpToolsProtocol is not None:
    class GuardedHttpToolsProtocol(_Guard, HttpToolsProtocol):
        """uvicorn's httptools protocol with the guards of this module (the default)."""

        def data_received(self, data: bytes) -> None:
            """Feed the parser; while a head is being read, no more than the header budget."""
            if self._lingering:
                return  # a refused client's further bytes are dropped
            self._boundary = False
            while data and not self.transport.is_closing() and not self._lingering:
                if self._phase != HEAD:
                    super().data_received(data)
                    break
                room = self.limits.max_header_bytes - self._head_bytes
                heads, chunk, data = self._heads, data[:room], data[room:]
                self._head_bytes += len(chunk)
                super().data_received(chunk)
                if data and self._heads == heads and self._phase == HEAD:
                    self._refuse(431, "Request Header Fields Too Large", "HeaderTooLarge", "header_too_large",
                                 f"request line and headers: expected at most {self.limits.max_header_bytes} "
                                 "bytes (max_header_bytes), got more; send fewer or shorter headers")
                    return
            if self._timer is None and not self.transport.is_closing() and not self._lingering:
                if self._phase == BODY or not self._boundary:
                    self._arm(self._phase)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._boundary = False

        def on_headers_complete(self) -> None:
            self._disarm()
            self._phase, self._heads = BODY, self._heads + 1
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            super().on_message_complete()
            if self._phase == BODY:
                self._disarm()
            self._phase, self._head_bytes, self._boundary = HEAD, 0, True

        _head_bytes = 0  # bytes of the current head fed so far
        _heads = 0       # heads completed on this connection
        _boundary = True  # the bytes fed so far ended exactly at the end of a request


class GuardedH11Protocol(_Guard, H11Protocol):
    """uvicorn's h11 protocol with the same deadlines, cap and shutdown (used when httptools
    is not installed). Its header limit is h11's own ``max_incomplete_event_size``, which
    :func:`rnnkit.serve.runner.run` sets to ``max_header_bytes``; h11 answers 400 above it."""

    def data_received(self, data: bytes) -> None:
        if self._lingering:
            return
        super().data_received(data)
        if self.transport.is_closing() or self._lingering:
            return
        state = self.conn.their_state
        if state is h11.SEND_BODY:
            if self._phase != BODY or self._timer is None:
                self._phase = BODY
                self._arm(BODY)
        elif state is h11.IDLE:
            if self.conn.trailing_data[0] and (self._phase != HEAD or self._timer is None):
                self._phase = HEAD
                self._arm(HEAD)
        else:  # the request is in: the app's own timeout applies
            self._phase = HEAD
            self._disarm()


def protocol_class() -> type:
    """The guarded protocol for this installation: httptools when present, else h11."""
    return GuardedHttpToolsProtocol if HttpToolsProtocol is not None else GuardedH11Protocol
