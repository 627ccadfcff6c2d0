"""Running the app under uvicorn: one process, or ``workers`` processes on one port.

With several workers uvicorn starts each from the import string
``rnnkit.serve.runner:app_from_env`` (a factory), so the settings travel in the
environment variable ``RNNKIT_SERVE_CONFIG`` and each worker loads the models itself.
Prometheus values of all workers are summed through ``PROMETHEUS_MULTIPROC_DIR``.
Sessions live in the worker that opened them: behind one port with several workers a
step can land on another worker (404 that says so), so stateful streaming wants one
worker per port with the load balancer pinning each session id (docs/serving.md).
"""

from __future__ import annotations

import json
import os
import tempfile

from rnnkit.serve.config import ServeConfig

ENV = "RNNKIT_SERVE_CONFIG"


def app_from_env():
    from rnnkit.serve.app import create_app

    return create_app(ServeConfig.from_dict(json.loads(os.environ[ENV])))


def run(config: ServeConfig, *, host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
        log_level: str = "info", graceful_s: float = 30.0) -> None:
    """Serve until SIGINT / SIGTERM, then finish in-flight requests (at most ``graceful_s``)."""
    import uvicorn

    from rnnkit.serve.app import create_app

    common = dict(host=host, port=port, log_level=log_level, timeout_graceful_shutdown=graceful_s,
                  access_log=log_level == "debug")
    if workers <= 1:
        uvicorn.run(create_app(config), **common)
        return
    create_app(config)  # load every model once here: a bad file stops us before any worker starts
    os.environ[ENV] = json.dumps(config.to_dict())
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="rnnkit-metrics-"))
    uvicorn.run("rnnkit.serve.runner:app_from_env", factory=True, workers=workers, **common)
