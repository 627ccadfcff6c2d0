"""``rnnkit serve`` as a real process: start-up checks, HTTP on a port, graceful shutdown,
and schemathesis against its OpenAPI document."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

CLI = [sys.executable, "-c", "from rnnkit.cli.main import main; raise SystemExit(main())"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(*args, env=None):
    port = free_port()
    proc = subprocess.Popen([*CLI, "serve", *args, "--port", str(port), "--log-level", "warning"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE", **(env or {})})
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited: {proc.stderr.read()}")
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("server did not become ready in 60 s")


def test_corrupt_or_missing_model_stops_serve_at_start(tmp_path):
    bad = tmp_path / "bad.rnnkit"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    for path in (bad, tmp_path / "missing.rnnkit"):
        done = subprocess.run([*CLI, "serve", str(path), "--port", str(free_port())],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2
        assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr
        assert str(path.name) in done.stderr


def test_api_key_env_must_be_set(forecaster_file):
    done = subprocess.run([*CLI, "serve", str(forecaster_file), "--api-key-env", "RNNKIT_TEST_NO_KEY"],
                          capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in os.environ.items() if k != "RNNKIT_TEST_NO_KEY"})
    assert done.returncode == 2 and "RNNKIT_TEST_NO_KEY" in done.stderr


def test_serves_then_finishes_in_flight_requests_on_sigterm(forecaster_file):
    proc, url = start(f"daily={forecaster_file}", "--max-wait-ms", "1500", "--max-batch", "64")
    try:
        spec = httpx.get(url + "/openapi.json").json()
        body = spec["components"]["schemas"]["PredictRequest_daily"]["examples"][0]
        result = {}

        def slow():  # waits ~1.5 s in the batcher for company that never comes
            result["reply"] = httpx.post(url + "/v1/models/daily/predict", json=body, timeout=30)

        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        t.join(30)
        assert result["reply"].status_code == 200, result["reply"].text
        assert proc.wait(30) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once done
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.fixture(scope="module")
def live_server(forecaster_file, detector_file, classifier_file, text_file, lm_file):
    proc, url = start(f"daily={forecaster_file}", f"sensors={detector_file}", f"waves={classifier_file}",
                      f"reviews={text_file}", f"lm={lm_file}", "--max-wait-ms", "1")
    yield url
    proc.terminate()
    proc.wait(30)


def test_schemathesis_finds_no_server_errors_or_schema_violations(live_server, tmp_path):
    """A short fuzzing run (the long one: benchmarks/serve_fuzz.py)."""
    config = os.path.join(os.path.dirname(__file__), "schemathesis.toml")
    done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "schemathesis"),
                           "--config-file", config, "run",
                           live_server + "/openapi.json", "--checks", "all", "--max-examples", "15",
                           "--exclude-checks", "positive_data_acceptance,missing_required_header,"
                           "unsupported_method,ignored_auth",
                           "--seed", "1", "--suppress-health-check", "all", "--no-color"],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)
    report = "\n".join(line[:400] for line in done.stdout.splitlines())  # fuzzed bodies are huge
    start = report.find("FAILURES")
    assert done.returncode == 0, report[start: start + 8000] if start >= 0 else report[-8000:]
