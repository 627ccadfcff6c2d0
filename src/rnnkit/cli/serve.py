"""``rnnkit serve MODEL [MODEL...]``: the HTTP model server (see docs/serving.md)."""

from __future__ import annotations

from typing import List, Optional

import typer

from rnnkit.errors import ConfigError


def serve(models: List[str] = typer.Argument(..., help="Model files; NAME=PATH serves PATH under NAME "
                                             "(default name: the file name without extension)."),
          host: str = typer.Option("127.0.0.1", help="Address to bind; 0.0.0.0 for every interface."),
          port: int = typer.Option(8000, help="TCP port."),
          workers: int = typer.Option(1, help="Server processes on this port (sessions want 1; "
                                      "see docs/serving.md)."),
          api_key_env: Optional[str] = typer.Option(None, "--api-key-env", help="Name of an environment "
                                                    "variable holding the API key /v1/* requires."),
          max_batch: int = typer.Option(64, help="Most instances per network pass (1: no batching)."),
          max_wait_ms: float = typer.Option(5.0, help="Longest wait to fill a batch, in ms."),
          max_queue: int = typer.Option(4096, help="Waiting instances per model before 503."),
          max_body_bytes: int = typer.Option(4 << 20, help="Request body limit (413 above)."),
          timeout: float = typer.Option(30.0, "--timeout", help="Per-request timeout in s (504 after)."),
          session_ttl: float = typer.Option(900.0, help="Close a session idle this many seconds."),
          max_sessions: int = typer.Option(10_000, help="Open sessions per model (LRU eviction)."),
          torch_threads: Optional[int] = typer.Option(None, help="Threads for network passes."),
          instance_id: Optional[str] = typer.Option(None, help="Prefix of this server's session ids, "
                                                    "for a load balancer that routes sessions by it."),
          header_timeout: float = typer.Option(10.0, help="Seconds a client has to send the request "
                                               "line and headers (408 after)."),
          body_timeout: float = typer.Option(30.0, help="Seconds a client has to send the body once "
                                             "the headers are in (408 after)."),
          idle_timeout: float = typer.Option(5.0, help="Close a keep-alive connection idle this long (s)."),
          max_header_bytes: int = typer.Option(32 << 10, help="Request line plus headers (431 above)."),
          max_connections: int = typer.Option(1000, help="Open connections; more are refused (503)."),
          graceful: float = typer.Option(10.0, help="On SIGTERM, longest wait for in-flight requests (s)."),
          open_path: Optional[List[str]] = typer.Option(None, "--open-path", help="Path that needs no "
                                                        "API key (repeatable; default /healthz and /readyz)."),
          trusted_key: Optional[List[str]] = typer.Option(None, "--trusted-key", help="Public key file "
                                                          "(from rnnkit keygen); serve only model files "
                                                          "signed by one of them (repeatable)."),
          log_level: str = typer.Option("info", help="uvicorn log level (debug logs each request).")) -> None:
    """Serve models over HTTP: /v1/models/NAME/predict, streaming sessions, /metrics.

    Example: rnnkit serve quickstart-out/weather.rnnkit --port 8000

    Then: curl localhost:8000/v1/models ; open localhost:8000/docs for every schema.
    """
    try:
        from rnnkit.serve import ServeConfig, api_key_from_env, model_specs
        from rnnkit.serve.runner import run
    except ImportError as err:
        raise ConfigError(f"rnnkit serve needs the serving extras ({err.name} is missing): "
                          'pip install "rnnkit[serve]"') from None
    if workers < 1:
        raise ConfigError(f"--workers: expected >= 1, got {workers}")
    config = ServeConfig(models=model_specs(models), max_batch=max_batch, max_wait_ms=max_wait_ms,
                         max_queue=max_queue, max_body_bytes=max_body_bytes, request_timeout_s=timeout,
                         session_ttl_s=session_ttl, max_sessions=max_sessions,
                         api_key=api_key_from_env(api_key_env), torch_threads=torch_threads,
                         instance_id=instance_id, header_timeout_s=header_timeout,
                         body_timeout_s=body_timeout, idle_timeout_s=idle_timeout,
                         max_header_bytes=max_header_bytes, max_connections=max_connections,
                         graceful_s=graceful, open_paths=open_path or ["/healthz", "/readyz"],
                         trusted_keys=trusted_key or [])
    run(config, host=host, port=port, workers=workers, log_level=log_level)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
