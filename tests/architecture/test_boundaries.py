"""The package's architecture, checked: packages meet only through public names.

- No module imports a private name (``_x``, or a ``_module``) from another package.
- No task package imports another task's modules (shared helpers live in
  ``rnnkit.tasks.core`` and ``rnnkit.tasks.common``).
- The packages around the tasks (serve, inspect, export, compare, cli, tuning) reach into
  no object's private attributes.
- No module grows past 400 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
ROOT = SRC / "rnnkit"
MODULES = sorted(ROOT.rglob("*.py"))
TASKS = ROOT / "tasks"
SHARED_TASK_PACKAGES = {"core", "common"}
OUTER = ("serve", "inspect", "export", "compare", "cli", "tuning")
# attributes of third-party objects that only exist with an underscore
THIRD_PARTY_PRIVATE = {"_storage", "_trial_id"}
MAX_LINES = 400


def rel(path: Path) -> str:
    return str(path.relative_to(SRC))


def owner_dir(module: str) -> Path:
    """The directory that owns ``module`` (a dotted name): the package it is, or the
    package of the module."""
    path = SRC.joinpath(*module.split("."))
    return path if path.is_dir() else path.parent


def private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def imports(path: Path):
    """(module, names) of each ``from rnnkit... import`` and ``import rnnkit...`` in ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("rnnkit"):
            yield node.module, [a.name for a in node.names], node.lineno
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("rnnkit"):
                    yield a.name, [], node.lineno


def private_imports(path: Path) -> list[str]:
    bad = []
    for module, names, line in imports(path):
        parts = module.split(".")
        for name in names:
            target = f"{module}.{name}"
            is_module = SRC.joinpath(*target.split(".")).with_suffix(".py").exists() or \
                SRC.joinpath(*target.split(".")).is_dir()
            home = owner_dir(target) if is_module else owner_dir(module)
            if private(name) and home not in path.parents:
                bad.append(f"{rel(path)}:{line} imports {name} from {module}")
        for i, part in enumerate(parts):
            if private(part) and owner_dir(".".join(parts[: i + 1])) not in path.parents \
                    and owner_dir(".".join(parts[:i])) not in path.parents:
                bad.append(f"{rel(path)}:{line} imports from private module {module}")
    return bad


def test_the_import_check_catches_a_private_import():
    fake = ROOT / "serve" / "_probe_for_test.py"
    try:
        fake.write_text("from rnnkit.nn.functional import _secret\nfrom rnnkit.nn import _hidden_mod\n")
        assert len(private_imports(fake)) == 2
    finally:
        fake.unlink()


def test_no_private_name_is_imported_from_another_package():
    assert [bad for path in MODULES for bad in private_imports(path)] == []


def task_of(path: Path) -> str | None:
    if TASKS not in path.parents or path.parent == TASKS:
        return None
    return path.relative_to(TASKS).parts[0]


def other_tasks_imported(path: Path) -> list[str]:
    mine = task_of(path)
    others = []
    for module, _, line in imports(path):
        parts = module.split(".")
        if parts[:2] == ["rnnkit", "tasks"] and len(parts) > 2 and parts[2] != mine \
                and (TASKS / parts[2]).is_dir() and parts[2] not in SHARED_TASK_PACKAGES:
            others.append(f"{rel(path)}:{line} imports {module}")
    return others


def test_a_task_imports_no_other_task():
    tasks = [p for p in MODULES if task_of(p) not in (None, *SHARED_TASK_PACKAGES)]
    assert [bad for path in tasks for bad in other_tasks_imported(path)] == []


def private_attributes(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and private(node.attr) and node.attr not in THIRD_PARTY_PRIVATE:
            base = node.value
            if isinstance(base, ast.Name) and base.id in ("self", "cls"):
                continue
            if isinstance(base, ast.Call) and isinstance(base.func, ast.Name) and base.func.id == "super":
                continue
            bad.append(f"{rel(path)}:{node.lineno} reads .{node.attr}")
    return bad


def test_outer_packages_use_only_public_attributes():
    outer = [p for p in MODULES if p.relative_to(ROOT).parts[0] in OUTER]
    assert [bad for path in outer for bad in private_attributes(path)] == []


def test_the_attribute_check_catches_a_private_read():
    fake = ROOT / "serve" / "_probe_for_test.py"
    try:
        fake.write_text("def f(est, self):\n    return est._detect(), self._ok, super()._fine\n")
        assert private_attributes(fake) == ["rnnkit/serve/_probe_for_test.py:2 reads ._detect"]
    finally:
        fake.unlink()


def test_modules_stay_small():
    sizes = {rel(p): len(p.read_text().splitlines()) for p in MODULES}
    assert {name: n for name, n in sizes.items() if n >= MAX_LINES} == {}
