"""The OpenAPI examples of a served model, built within a fixed budget.

Each model's page shows an example instance, an example step and the model's real answer
to that instance. They are built while the app is created, before the port is bound, so a
model whose config makes them huge (``lookback=3e7`` from an old file) must not stall the
start: an adapter refuses an example longer than it may be (a :class:`DataError`), the
example must fit :data:`MAX_BYTES` of JSON, and each part runs in a helper thread for at
most :data:`BUDGET_S` seconds. Whatever does not fit leaves a schema-only page (with a
note in the log); serving never depends on an example.
"""

from __future__ import annotations

import json
import logging
import threading

log = logging.getLogger("rnnkit.serve")

# Seconds each example part may take. The sizes are what bound an example (an adapter
# refuses one longer than it may be, MAX_BYTES caps its JSON); the time is a last line,
# generous because the first network pass of a fresh process also loads the kernels, and
# an abandoned pass would leave that work to the first real requests.
BUDGET_S = 30.0
MAX_BYTES = 256 << 10  # JSON size of one example


class _Late(Exception):
    pass


def _bounded(fn, budget_s: float = BUDGET_S):
    """``fn()`` run in a daemon thread; raises :class:`_Late` after ``budget_s`` seconds
    (the thread is abandoned: it cannot hold up the server or its exit)."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn()
        except BaseException as err:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = err

    thread = threading.Thread(target=target, name="rnnkit-example", daemon=True)
    thread.start()
    thread.join(budget_s)
    if thread.is_alive():
        raise _Late(f"took longer than {budget_s:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def _fits(example, what: str, name: str):
    if example is not None and len(json.dumps(example)) > MAX_BYTES:
        log.warning("model %s: %s example is larger than %d bytes; the page shows its schema only",
                    name, what, MAX_BYTES)
        return None
    return example


def instance_example(a) -> dict | None:
    """``a.example_instance()``, or None when it is too large or too slow to build."""
    try:
        return _fits(_bounded(a.example_instance), "instance", a.name)
    except Exception as err:  # noqa: BLE001 - an example is a courtesy; never block serving
        log.warning("model %s: no instance example (%s); the page shows its schema only", a.name, err)
        return None


def step_example(a) -> dict | None:
    """``a.example_step()``, or None when it is too large or too slow to build."""
    try:
        return _fits(_bounded(a.example_step), "step", a.name)
    except Exception as err:  # noqa: BLE001
        log.warning("model %s: no step example (%s)", a.name, err)
        return None


def answer_example(a, name: str) -> dict:
    """The model's real answer to its own example instance as the 200 example (``responses=``
    of the predict route), or ``{}`` when it cannot be built within the budget."""
    def build():
        instance = a.Instance.model_validate(a.example_instance())
        answer = a.predict_batch([a.prepare(instance).payload])[0]
        if isinstance(answer, BaseException):
            raise answer
        return {"model": name, "predictions": [answer.model_dump(mode="json")]}

    try:
        example = _fits(_bounded(build), "answer", name)
    except Exception as err:  # noqa: BLE001
        log.warning("model %s: no answer example (%s)", name, err)
        return {}
    if example is None:
        return {}
    return {200: {"content": {"application/json": {"example": example}}}}
