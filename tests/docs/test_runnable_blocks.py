"""Every code block in README.md and docs/ that is marked runnable runs and exits 0.

The marker is an HTML comment on the line just before a ```bash or ```python block:

    <!-- runnable -->
    <!-- runnable: `epochs=40` -> `epochs=2`; `origins=20` -> `origins=2` -->

The second form says the small settings the test uses: each `OLD` -> `NEW` pair replaces
text of the block (which must contain OLD), so the page shows the real command and the
test runs a quick one. A runnable block is self-contained (its own imports); the blocks of
one page run in order in one fresh folder holding a copy of examples/, so a later block may
use a file an earlier one wrote. Python blocks run with this environment's python; bash
blocks with `bash -e -o pipefail` and this environment's bin folder (rnnkit) first on PATH.
A block may read only what ships with rnnkit: no network, no optional system packages.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
MARK = re.compile(r"^<!--\s*runnable\s*(?::(?P<subs>.*?))?\s*-->\s*$")
PAIR = re.compile(r"`([^`]+)`\s*->\s*`([^`]*)`")
FENCE = re.compile(r"^```(?P<lang>\w+)?")
LANGUAGES = ("bash", "python")
BLOCK_TIMEOUT_S = 150


@dataclass
class Block:
    page: Path
    line: int  # of the opening fence, 1-based
    lang: str
    code: str
    subs: list[tuple[str, str]] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"

    def runnable_code(self) -> str:
        code = self.code
        for old, new in self.subs:
            assert old in code, f"{self.where}: the marker replaces `{old}`, which the block does not hold"
            code = code.replace(old, new)
        return code


def parse_subs(text: str | None, where: str) -> list[tuple[str, str]]:
    if not text or not text.strip():
        return []
    pairs = PAIR.findall(text)
    leftover = PAIR.sub("", text).replace(";", "").strip()
    assert pairs and not leftover, f"{where}: expected `OLD` -> `NEW` pairs after 'runnable:', got {text!r}"
    return pairs


def runnable_blocks(page: Path) -> list[Block]:
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks = []
    for i, line in enumerate(lines):
        mark = MARK.match(line.strip())
        if not mark:
            continue
        where = f"{page.relative_to(REPO)}:{i + 1}"
        fence = FENCE.match(lines[i + 1]) if i + 1 < len(lines) else None
        assert fence and fence.group("lang") in LANGUAGES, \
            f"{where}: a runnable marker must sit just above a ```bash or ```python block"
        end = next((j for j in range(i + 2, len(lines)) if lines[j].startswith("```")), None)
        assert end is not None, f"{where}: the block is never closed"
        blocks.append(Block(page, i + 2, fence.group("lang"), "\n".join(lines[i + 2:end]) + "\n",
                            parse_subs(mark.group("subs"), where)))
    return blocks


BLOCKS = {page: runnable_blocks(page) for page in PAGES}


def block_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.setdefault("OMP_NUM_THREADS", "1")
    env["MPLBACKEND"] = "Agg"
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_block(block: Block, folder: Path, env: dict[str, str]) -> None:
    script = folder / f"_block_{block.line}.{'py' if block.lang == 'python' else 'sh'}"
    script.write_text(block.runnable_code(), encoding="utf-8")
    argv = [sys.executable, script.name] if block.lang == "python" else ["bash", "-e", "-o", "pipefail", script.name]
    try:
        done = subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True,
                              timeout=BLOCK_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{block.where}: still running after {BLOCK_TIMEOUT_S} s; give it smaller settings")
    assert done.returncode == 0, (f"{block.where}: exit {done.returncode}\n--- block ---\n"
                                  f"{block.runnable_code()}--- stdout ---\n{done.stdout[-3000:]}"
                                  f"--- stderr ---\n{done.stderr[-3000:]}")


def test_the_marker_is_used_and_parsed():
    blocks = [b for page_blocks in BLOCKS.values() for b in page_blocks]
    assert any(b.page.name == "README.md" for b in blocks), "README.md has no runnable block"
    assert sum(1 for bs in BLOCKS.values() if bs) >= 5, "fewer than five pages have a runnable block"


def test_parse_subs_refuses_a_malformed_marker():
    assert parse_subs(" `a=1` -> `a=2`; `b` -> `c` ", "x") == [("a=1", "a=2"), ("b", "c")]
    with pytest.raises(AssertionError, match="expected `OLD` -> `NEW`"):
        parse_subs("set SMALL=1", "x")


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p, bs in BLOCKS.items() if bs], ids=lambda p: str(p.relative_to(REPO)))
def test_runnable_blocks_of_a_page_run(page, tmp_path):
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    env = block_env()
    for block in BLOCKS[page]:
        run_block(block, tmp_path, env)
