"""Streaming sessions: recurrent state kept on the server, one client stream each.

A :class:`SessionStore` holds at most ``max_sessions`` sessions of one model. Each use
moves a session to the back of an LRU order; opening one more than the limit closes the
least recently used; a sweep closes sessions idle longer than ``ttl_s``. Each session has
an ``asyncio.Lock`` so its steps run one at a time, in arrival order (asyncio's lock is
FIFO), while steps of different sessions batch together.

A closed session's id is remembered (bounded) with the reason, so a late step hears
*why* its session is gone: expired after idling, evicted by newer sessions, deleted by
a client, or closed by the server because one of its steps timed out.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable

from rnnkit.errors import RnnkitError

FORGET_AFTER = 100_000  # closed ids remembered for their 404 message


class SessionGone(RnnkitError, KeyError):
    """No open session has this id (the server answers 404 with the reason)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return self.args[0]


@dataclass
class Session:
    id: str
    state: Any  # the task's stream object (recurrent state, buffers)
    created: float
    last_used: float
    steps: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class SessionStore:
    def __init__(self, model: str, *, max_sessions: int, ttl_s: float, prefix: str | None = None,
                 on_close: Callable[[str], None] | None = None,
                 on_count: Callable[[int], None] | None = None, clock=time.monotonic) -> None:
        self.model, self.max_sessions, self.ttl_s = model, max_sessions, ttl_s
        self.prefix = f"{prefix}-" if prefix else ""
        self.on_close = on_close or (lambda reason: None)
        self.on_count = on_count or (lambda n: None)
        self.clock = clock
        self._open: OrderedDict[str, Session] = OrderedDict()
        self._closed: OrderedDict[str, str] = OrderedDict()  # id -> reason

    def __len__(self) -> int:
        return len(self._open)

    def open(self, state: Any) -> Session:
        """A new session around ``state``; evicts the least recently used one when full."""
        self.sweep()
        while len(self._open) >= self.max_sessions:
            oldest, _ = self._open.popitem(last=False)
            self._forget(oldest, f"it was evicted as the least recently used session when "
                                 f"more than max_sessions={self.max_sessions} were open")
            self.on_close("evicted")
        now = self.clock()
        session = Session(self.prefix + secrets.token_hex(16), state, now, now)
        self._open[session.id] = session
        self.on_count(len(self._open))
        return session

    def get(self, session_id: str) -> Session:
        """The open session ``session_id``, marked as just used."""
        self.sweep()
        session = self._open.get(session_id)
        if session is None:
            raise SessionGone(self._gone(session_id))
        session.last_used = self.clock()
        self._open.move_to_end(session_id)
        return session

    def close(self, session_id: str, reason: str = "it was deleted by a client",
              kind: str = "deleted") -> Session:
        """Close an open session; a later step hears ``reason``; ``kind`` labels the metric."""
        session = self.get(session_id)
        del self._open[session_id]
        self._forget(session_id, reason)
        self.on_close(kind)
        self.on_count(len(self._open))
        return session

    def sweep(self) -> int:
        """Close sessions idle longer than ``ttl_s``; returns how many."""
        cutoff = self.clock() - self.ttl_s
        expired = []
        for sid, session in self._open.items():  # LRU order: the idlest come first
            if session.last_used > cutoff:
                break
            if not session.lock.locked():
                expired.append(sid)
        for sid in expired:
            del self._open[sid]
            self._forget(sid, f"it expired after {self.ttl_s:g} s without a step (session_ttl_s)")
            self.on_close("expired")
        if expired:
            self.on_count(len(self._open))
        return len(expired)

    def _forget(self, session_id: str, reason: str) -> None:
        self._closed[session_id] = reason
        while len(self._closed) > FORGET_AFTER:
            self._closed.popitem(last=False)

    def _gone(self, session_id: str) -> str:
        where = f"model {self.model!r}: session {session_id!r}"
        reason = self._closed.get(session_id)
        fix = f"open a new one with POST /v1/models/{self.model}/sessions"
        if reason:
            return f"{where} is closed: {reason}; {fix}"
        return (f"{where} is not open on this server ({fix}; with several server processes, "
                f"route each session id to the process that opened it)")
