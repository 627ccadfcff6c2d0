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

import contextlib
import json
import os
import signal
import tempfile

from rnnkit.serve.config import ServeConfig

ENV = "RNNKIT_SERVE_CONFIG"


def app_from_env():
    from rnnkit.serve.app import create_app

    return create_app(ServeConfig.from_dict(json.loads(os.environ[ENV])))


def run(config: ServeConfig, *, host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
        log_level: str = "info") -> None:
    """Serve until SIGINT / SIGTERM, then finish in-flight requests (at most ``config.graceful_s``)
    and return (exit status 0). Connections are guarded by :mod:`rnnkit.serve.connections`."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from rnnkit.serve.app import create_app
    from rnnkit.serve.connections import SHUTDOWN_MARGIN_S, ConnectionLimits, protocol_class

    if workers <= 1:
        app, factory = create_app(config), False
    else:
        create_app(config)  # load every model once here: a bad file stops us before any worker starts
        os.environ[ENV] = json.dumps(config.to_dict())
        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="rnnkit-metrics-"))
        app, factory = "rnnkit.serve.runner:app_from_env", True
    uv = uvicorn.Config(app, factory=factory, host=host, port=port, workers=workers, log_level=log_level,
                        access_log=log_level == "debug", http=protocol_class(),
                        timeout_keep_alive=config.idle_timeout_s,
                        h11_max_incomplete_event_size=config.max_header_bytes,
                        timeout_graceful_shutdown=config.graceful_s + SHUTDOWN_MARGIN_S)
    uv.connection_limits = ConnectionLimits.from_config(config)  # read by the protocol, in every worker
    if workers > 1:
        Multiprocess(uv, sockets=[uv.bind_socket()]).run()
        return
    server = uvicorn.Server(uv)
    with _signals_end_quietly(server):
        server.run()
    if not server.started:
        raise SystemExit(3)  # uvicorn has logged why (port in use, ...)


@contextlib.contextmanager
def _signals_end_quietly(server):
    """Let SIGTERM / SIGINT stop ``server`` and the process then exit 0.

    uvicorn re-raises the signal it caught once it has shut down (so a default handler
    would end the process by the signal, status -15); the handlers installed here are what
    it restores and re-raises into, and they only ask the server to stop (a signal that
    comes before uvicorn installs its own, while starting, is not lost either).
    """
    def stop(signum, frame):
        server.should_exit = True

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
