"""Connections against a real ``rnnkit serve`` process on loopback (issue 22, items 2 and 3):
stalled clients are cut by the header and body deadlines while ``/healthz`` keeps answering,
a huge header is refused with 431 before it is read, the connection cap answers 503 at once,
SIGTERM with a stalled body exits 0 within ``graceful_s`` without a traceback, keep-alive
still works; and the uvicorn hooks :mod:`rnnkit.serve.connections` relies on still exist."""

import http.client
import inspect
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

CLI = [sys.executable, "-c", "from rnnkit.cli.main import main; raise SystemExit(main())"]
PREDICT = "/v1/models/daily/predict"
HEAD_POST = (b"POST " + PREDICT.encode() + b" HTTP/1.1\r\nHost: t\r\n"
             b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n")


def start(model, *args):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([*CLI, "serve", f"daily={model}", "--port", str(port), "--log-level",
                             "warning", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return proc, port
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("server did not become ready in 60 s")


def stop(proc) -> str:
    """SIGTERM, wait, and the server's stderr (which must hold no traceback)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.stderr.read()


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def read_until_closed(sock, timeout: float) -> bytes:
    sock.settimeout(timeout)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data


def refused(port: int) -> dict[str, float]:
    """The server's ``rnnkit_connections_refused_total`` by reason."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    found = re.findall(r'^rnnkit_connections_refused_total\{reason="(\w+)"\} (\S+)$', text, re.M)
    return {reason: float(value) for reason, value in found}


@pytest.fixture(scope="module")
def server(forecaster_file):
    """Short deadlines so that stalled clients are cut within the test."""
    proc, port = start(forecaster_file, "--header-timeout", "1", "--body-timeout", "1", "--idle-timeout", "1")
    yield proc, port
    log = stop(proc)
    assert "Traceback" not in log, log[-3000:]


def test_uvicorn_hooks_the_guard_relies_on_are_still_there():
    """Fails loudly when a uvicorn upgrade renames what rnnkit/serve/connections.py overrides."""
    from uvicorn.protocols.http.h11_impl import H11Protocol, RequestResponseCycle
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    from uvicorn.server import Server

    from rnnkit.serve.connections import GuardedH11Protocol, GuardedHttpToolsProtocol, protocol_class

    assert protocol_class() is GuardedHttpToolsProtocol
    for cls in (HttpToolsProtocol, H11Protocol):
        assert list(inspect.signature(cls.__init__).parameters) == [
            "self", "config", "server_state", "app_state", "_loop"]
        for name in ("connection_made", "connection_lost", "data_received", "shutdown"):
            assert callable(getattr(cls, name)), name
        init = inspect.getsource(cls.__init__)
        assert "self.app = config.loaded_app" in init and "self.connections = server_state.connections" in init
    for name in ("on_message_begin", "on_headers_complete", "on_message_complete"):
        assert callable(getattr(HttpToolsProtocol, name)), name
    assert "app = self.app" in inspect.getsource(HttpToolsProtocol.on_headers_complete)
    assert "app = self.app" in inspect.getsource(H11Protocol.handle_events)
    for cycle in (RequestResponseCycle,
                  sys.modules["uvicorn.protocols.http.httptools_impl"].RequestResponseCycle):
        init = inspect.getsource(cycle.__init__)
        for attr in ("disconnected", "message_event", "response_started", "response_complete", "keep_alive"):
            assert f"self.{attr} =" in init, (cycle, attr)
    shutdown = inspect.getsource(Server.shutdown)
    assert "connection.shutdown()" in shutdown and "timeout_graceful_shutdown" in shutdown
    assert "signal.raise_signal" in inspect.getsource(Server.capture_signals)
    assert "their_state" in inspect.getsource(H11Protocol.handle_events)
    assert issubclass(GuardedH11Protocol, H11Protocol)


def test_stalled_clients_are_cut_while_healthz_answers(server):
    proc, port = server
    partial = [b"GET /hea", b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: ", HEAD_POST + b'{"instances": [']
    socks, opened = [], time.monotonic()
    for i in range(300):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(partial[i % 3])
        socks.append(s)
    slowest = 0.0
    while time.monotonic() - opened < 2.5:  # /healthz throughout, while the deadlines run out
        t = time.monotonic()
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        slowest = max(slowest, time.monotonic() - t)
        time.sleep(0.1)
    assert slowest < 1.0
    answers = {}
    for i, s in enumerate(socks):
        answers[i] = read_until_closed(s, timeout=max(0.1, opened + 4 - time.monotonic()))
        s.close()
    closed_in = time.monotonic() - opened
    for i, answer in answers.items():
        assert answer.startswith(b"HTTP/1.1 408 "), (i, answer[:200])
    assert b"request headers not complete within 1 s (header_timeout_s)" in answers[0]
    assert b"request body not complete within 1 s (body_timeout_s)" in answers[2]
    assert closed_in < 4.0  # 1 s deadline + 1 s linger + slack
    counts = refused(port)
    assert counts.get("header_timeout", 0) >= 200 and counts.get("body_timeout", 0) >= 100, counts


def test_huge_header_is_refused_with_431_before_it_is_read(server):
    proc, port = server
    cut = refused(port).get("header_too_large", 0)
    before = rss_kib(proc.pid)
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: ")
    s.setblocking(False)
    chunk, sent, answer = b"a" * (64 << 10), 0, b""
    while sent < 200 << 20 and not answer:  # a 200 MiB header, unless the server answers first
        readable, writable, _ = select.select([s], [s], [], 5)
        if readable:
            answer = s.recv(65536)
        elif writable:
            try:
                sent += s.send(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
        else:
            break
    s.setblocking(True)
    answer += read_until_closed(s, timeout=3)
    s.close()
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body["error"]["type"] == "HeaderTooLarge" and "max_header_bytes" in body["error"]["message"]
    assert sent < 16 << 20, sent  # answered after the first 32 KiB, not after the whole header
    assert rss_kib(proc.pid) - before < 8 << 10  # under 8 MiB more (was +400 MiB)
    assert refused(port)["header_too_large"] == cut + 1
    assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200


def test_keep_alive_connections_carry_several_requests_then_idle_out(server):
    proc, port = server
    spec = httpx.get(f"http://127.0.0.1:{port}/openapi.json").json()
    body = json.dumps(spec["components"]["schemas"]["PredictRequest_daily"]["examples"][0])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.connect()
    first = conn.sock
    for i in range(10):
        if i % 2:
            conn.request("POST", PREDICT, body=body, headers={"Content-Type": "application/json"})
        else:
            conn.request("GET", "/healthz")
        reply = conn.getresponse()
        assert reply.status == 200, reply.read()
        reply.read()
        assert conn.sock is first  # the same connection every time
    assert read_until_closed(first, timeout=3) == b""  # closed by the 1 s idle timeout
    conn.close()


def test_connection_cap_then_sigterm_with_stalled_body(forecaster_file):
    proc, port = start(forecaster_file, "--max-connections", "5", "--graceful", "1")
    try:
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
        for s in held:
            s.sendall(b"GET /healthz HTTP/1.1\r\n")
        time.sleep(0.2)
        t = time.monotonic()
        extra = socket.create_connection(("127.0.0.1", port))
        extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        answer = read_until_closed(extra, timeout=2)
        assert time.monotonic() - t < 1.0
        assert answer.startswith(b"HTTP/1.1 503 "), answer[:200]
        assert b"too many open connections (max_connections=5)" in answer
        held.pop().close()
        time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200

        stalled = held.pop()  # one connection with half a body when SIGTERM comes
        stalled.close()
        stalled = socket.create_connection(("127.0.0.1", port))
        stalled.sendall(HEAD_POST + b'{"instances": [')
        time.sleep(0.3)
        got = {}
        reader = threading.Thread(target=lambda: got.setdefault("a", read_until_closed(stalled, 10)))
        reader.start()
        t = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(15)
        took = time.monotonic() - t
        reader.join(10)
        log = proc.stderr.read()
        assert code == 0 and "Traceback" not in log, (code, log[-3000:])
        assert took < 1 + 2.5, took  # graceful_s + slack (was 30 s)
        assert got["a"].startswith(b"HTTP/1.1 503 ") and b"shutting down" in got["a"], got["a"][:300]
        for s in held:
            s.close()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_h11_fallback_guards_the_same_way():
    """Without httptools the h11 protocol is used: same deadlines and cap; h11's own limit
    refuses an oversized head (400)."""
    import uvicorn

    from rnnkit.serve.connections import ConnectionLimits, GuardedH11Protocol

    async def app(scope, receive, send):
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(app, port=port, http=GuardedH11Protocol, log_level="critical", lifespan="off",
                            h11_max_incomplete_event_size=1000, timeout_keep_alive=1)
    config.connection_limits = ConnectionLimits(0.5, 0.5, 1000, 3, 1.0)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run)
    thread.start()
    try:
        while not server.started:
            time.sleep(0.05)

        def talk(data: bytes) -> bytes:
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(data)
                return read_until_closed(s, timeout=3)

        assert talk(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").endswith(b"ok")
        assert b"request headers not complete within 0.5 s" in talk(b"GET / HT")
        assert b"request body not complete within 0.5 s" in talk(HEAD_POST + b"[")
        assert talk(b"GET / HTTP/1.1\r\nHost: t\r\nX: " + b"a" * 5000).startswith(b"HTTP/1.1 400 ")
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
        time.sleep(0.1)
        assert b"max_connections=3" in talk(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        for s in held:
            s.close()
    finally:
        server.should_exit = True
        thread.join(10)
