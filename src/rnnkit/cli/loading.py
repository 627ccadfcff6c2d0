"""Loading a model file for a task verb (``generate``, ``translate``, ``chat``, ``transcribe``)."""

from __future__ import annotations

from pathlib import Path

from rnnkit.errors import ConfigError, problem


def load_task_model(model: Path, cls: type, command: str, what: str, fix: str):
    """``rnnkit.load(model)``, refused with one clear line unless it is a ``cls``.

    ``what`` names the expected kind (e.g. ``"a language model (task 'lm')"``) and ``fix``
    says how to make one."""
    import rnnkit

    est = rnnkit.load(model)
    if not isinstance(est, cls):
        raise ConfigError(problem(f"rnnkit {command}: model file {str(model)!r}", expected=what,
                                  got=f"task {getattr(est, 'task_name', type(est).__name__)!r}", fix=fix))
    return est
