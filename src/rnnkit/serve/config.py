"""Settings of ``rnnkit serve``: one dataclass, every field with a default and a comment.

The CLI builds it from its options; :func:`rnnkit.serve.create_app` takes it from Python.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from rnnkit.errors import ConfigError, problem

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass
class ServeConfig:
    models: dict[str, str] = field(default_factory=dict)  # URL name -> model file path
    max_batch: int = 64            # most instances one network pass takes
    max_wait_ms: float = 5.0       # longest a request waits for others to fill a batch
    max_queue: int = 4096          # instances waiting per model before 503 (back-pressure)
    max_instances: int = 1024      # instances one request may carry
    max_steps: int = 1024          # time steps one session step may carry
    max_body_bytes: int = 4 << 20  # request body limit (413 above it)
    request_timeout_s: float = 30.0  # per request, from arrival to answer (504 after it)
    session_ttl_s: float = 900.0   # a session idle this long is closed
    max_sessions: int = 10_000     # open sessions per model; the least recently used goes first
    api_key: str | None = None     # when set, /v1/* needs it (Authorization: Bearer or X-API-Key)
    torch_threads: int | None = None  # intra-op threads for the network passes (None: torch default)
    instance_id: str | None = None  # prefix of session ids ("a-3f9c..."): a load balancer routes by it
    # connections (see docs/serving.md, "Threat model")
    header_timeout_s: float = 10.0  # request line and headers must arrive within this (408 after)
    body_timeout_s: float = 30.0   # the body must arrive within this once the headers are in (408)
    idle_timeout_s: float = 5.0    # a keep-alive connection with no request for this long is closed
    max_header_bytes: int = 32 << 10  # request line plus headers (431 above it)
    max_connections: int = 1000    # open connections; more are refused with 503 at once
    graceful_s: float = 10.0       # on SIGTERM, longest wait for in-flight requests before exit
    open_paths: list[str] = field(default_factory=lambda: ["/healthz", "/readyz"])  # need no API key
    trusted_keys: list[str] = field(default_factory=list)  # public key files; when set, unsigned
    #                                                        or foreign-signed model files are refused

    def __post_init__(self) -> None:
        for name in ("max_batch", "max_queue", "max_instances", "max_steps", "max_body_bytes",
                     "max_sessions", "max_header_bytes", "max_connections"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(problem(f"serve: {name}", expected="an int >= 1", got=repr(value)))
        for name in ("max_wait_ms", "request_timeout_s", "session_ttl_s", "header_timeout_s",
                     "body_timeout_s", "idle_timeout_s", "graceful_s"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value < 0 or value != value:
                raise ConfigError(problem(f"serve: {name}", expected="a number >= 0", got=repr(value)))
        if self.api_key is not None and len(self.api_key) < 8:
            raise ConfigError(problem("serve: API key", expected="at least 8 characters",
                                      got=f"{len(self.api_key)} characters",
                                      fix="use a long random key, e.g. `openssl rand -hex 24`"))
        if self.instance_id is not None and not re.match(r"^[A-Za-z0-9_]{1,32}$", self.instance_id):
            raise ConfigError(problem("serve: instance id", expected="1-32 letters, digits or '_'",
                                      got=repr(self.instance_id)))
        for path in self.open_paths:
            if not isinstance(path, str) or not path.startswith("/"):
                raise ConfigError(problem("serve: open path", expected="a path such as '/healthz'",
                                          got=repr(path)))
        for name, path in self.models.items():
            if not NAME.match(name):
                raise ConfigError(problem(f"serve: model name {name!r}",
                                          expected="1-64 of letters, digits, '_', '.', '-'",
                                          got=repr(name), fix="name it with NAME=PATH"))

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "ServeConfig":
        return cls(**values)


def model_specs(specs: list[str]) -> dict[str, str]:
    """``["weather.rnnkit", "reviews=/m/text.rnnkit"]`` -> ``{"weather": ..., "reviews": ...}``.

    A plain path is served under its file name without the extension; ``NAME=PATH`` names it.
    """
    if not specs:
        raise ConfigError("serve: no model given (usage: rnnkit serve MODEL [MODEL...], "
                          "e.g. rnnkit serve quickstart-out/weather.rnnkit)")
    models: dict[str, str] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or os.path.exists(spec):
            name, path = Path(spec).stem, spec
        if name in models:
            raise ConfigError(problem(f"serve: model name {name!r}", expected="unique names",
                                      got=f"{models[name]!r} and {path!r}",
                                      fix="name them: rnnkit serve a=PATH1 b=PATH2"))
        models[name] = path
    return models


def api_key_from_env(var: str | None) -> str | None:
    """The API key held by environment variable ``var`` (never on the command line)."""
    if var is None:
        return None
    key = os.environ.get(var)
    if not key:
        raise ConfigError(problem(f"serve: --api-key-env {var}", expected="a set, non-empty variable",
                                  got="unset" if key is None else "empty",
                                  fix=f"export {var}=$(openssl rand -hex 24)"))
    return key
