"""The first five minutes, as a new user has them: in a fresh clone, the README's
`./dev quickstart` and then every command it prints run as written and exit 0 (the
server, which runs until stopped, is started, asked for /healthz and stopped).

The clone reuses this test's virtual environment through RNNKIT_VENV, so nothing is
installed: the clone's pyproject.toml and dev get an mtime older than the environment's
install stamp, which is what `./dev` checks before it reinstalls.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VENV = Path(sys.prefix)
STAMP = VENV / ".rnnkit-installed"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (REPO / ".git").exists() or shutil.which("git") is None,
                       reason="needs a git checkout and git"),
    pytest.mark.skipif(not STAMP.exists() or not (VENV / "bin" / "rnnkit").exists(),
                       reason="needs an environment installed by ./dev (RNNKIT_VENV stamp)"),
]


def _git(*args: str) -> list[str]:
    out = subprocess.run(["git", *args], cwd=REPO, check=True, capture_output=True).stdout
    return [p for p in out.decode().split("\0") if p]


def fresh_clone(dest: Path) -> Path:
    """`git clone` of this repository, plus the working tree's uncommitted changes (so the
    test checks what will be committed, not only what was)."""
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(REPO), str(dest)], check=True)
    for rel in _git("ls-files", "-z", "--modified", "--others", "--exclude-standard"):
        src, dst = REPO / rel, dest / rel
        if src.is_file():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
        elif dst.exists() and not src.exists():  # deleted in the working tree
            dst.unlink()
    older = STAMP.stat().st_mtime - 60
    for name in ("pyproject.toml", "dev"):
        os.utime(dest / name, (older, older))
    return dest


def user_env() -> dict[str, str]:
    """A shell without the environment activated: its bin folder off PATH."""
    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)
    bin_dir = str(VENV / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != bin_dir)
    env["RNNKIT_VENV"] = str(VENV)
    env.setdefault("OMP_NUM_THREADS", "1")
    env["MPLBACKEND"] = "Agg"
    return env


def readme_quickstart() -> str:
    """The README's setup block must say `./dev quickstart`; it is what this test runs."""
    text = (REPO / "README.md").read_text()
    assert re.search(r"^\./dev quickstart\b", text, re.M), "README no longer says ./dev quickstart"
    return "./dev quickstart"


def printed_commands(output: str) -> list[str]:
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Next"))
    commands = []
    for line in lines[start + 1:]:
        if not line.startswith("  "):
            break
        commands.append(line.strip())
    return commands


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(command: str, cwd: Path, env: dict[str, str], timeout: float = 240) -> str:
    done = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, f"`{command}` exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def serve_briefly(command: str, cwd: Path, env: dict[str, str]) -> None:
    """Start the printed serve command on a free port, wait for /healthz, stop it with SIGTERM."""
    port = free_port()
    argv = shlex.split(command, comments=True) + ["--port", str(port)]
    proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        deadline, healthy = time.monotonic() + 90, False
        while time.monotonic() < deadline and proc.poll() is None and not healthy:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:
                    healthy = answer.status == 200
            except OSError:
                time.sleep(0.5)
        assert healthy, f"`{command}` never answered /healthz (exit {proc.poll()})"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        output = proc.communicate(timeout=30)[0].decode(errors="replace")
    assert proc.returncode in (0, -signal.SIGTERM), output


def test_quickstart_then_every_printed_command_runs_as_written(tmp_path):
    clone = fresh_clone(tmp_path / "rnnkit")
    env = user_env()
    output = run(readme_quickstart() + " --epochs 2 --origins 2", clone, env)
    commands = printed_commands(output)
    assert commands and all(c.startswith("./dev rnnkit ") for c in commands), output
    assert "serve" in commands[-1], "serve runs until stopped, so it comes last"
    readme = [line for line in (REPO / "README.md").read_text().splitlines() if line.startswith("./dev rnnkit ")]
    assert [" ".join(c.split()) for c in readme] == [" ".join(c.split()) for c in commands], \
        "README.md's list of the commands quickstart prints is out of date"
    for command in commands[:-1]:
        run(command, clone, env)
    serve_briefly(commands[-1], clone, env)
    # the other way the README gives: activate the environment once, then type rnnkit
    activate = re.search(r"source ([^`\s]+)", output.splitlines()[-1])
    assert activate, output
    version = run(f"source {activate.group(1)} && rnnkit --version", clone, env)
    assert version.strip()
