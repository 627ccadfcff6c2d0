"""What a task tells the server: its request and response schemas and its batched calls.

An adapter wraps one fitted estimator. The server validates each request with the
adapter's pydantic models, asks :meth:`TaskAdapter.prepare` for a checked payload, queues
payloads of many requests for one :meth:`TaskAdapter.predict_batch` call, and does the
same for session steps with :meth:`TaskAdapter.step_batch`. A new task serves by
subclassing and registering::

    @register_adapter("my-task")
    class MyAdapter(TaskAdapter):
        Instance = MyInstance            # pydantic model of one instance
        Prediction = MyPrediction        # pydantic model of one answer
        def prepare(self, instance): ... # -> Prepared(payload, length, rows); raise DataError
        def predict_batch(self, payloads): ...  # -> list of answers (or Exceptions), in order

Everything runs on the server's single inference thread except :meth:`prepare`, which
runs on the event loop and must stay cheap (no network pass).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

from rnnkit.errors import ConfigError

_ADAPTERS: dict[str, type["TaskAdapter"]] = {}


class Strict(BaseModel):
    """Base of request models: unknown fields and NaN / infinity are refused."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


@dataclass
class Prepared:
    """A validated instance or step: what the batch call takes, its length for grouping,
    and its feature rows ``(m, F)`` for the drift monitor (None: nothing to monitor)."""

    payload: Any
    length: int = 1
    rows: np.ndarray | None = None


class TaskAdapter:
    task: ClassVar[str] = ""
    Instance: ClassVar[type[BaseModel]]
    Prediction: ClassVar[type[BaseModel]]
    SessionOpen: ClassVar[type[BaseModel] | None] = None  # None: the task has no sessions
    Step: ClassVar[type[BaseModel] | None] = None
    StepOutput: ClassVar[type[BaseModel] | None] = None

    def __init__(self, estimator, name: str) -> None:
        self.estimator, self.name = estimator, name

    # ---- description --------------------------------------------------------------------
    def describe(self) -> dict:
        """What ``GET /v1/models`` says of this model (JSON values)."""
        return {"name": self.name, "task": self.task, "sessions": self.SessionOpen is not None}

    def example_instance(self) -> dict:
        raise NotImplementedError

    def example_step(self) -> dict | None:
        return None

    def drift_features(self) -> tuple[list[str], np.ndarray | None, np.ndarray | None] | None:
        """Feature names with training mean and std for the drift monitor, or None."""
        return None

    # ---- stateless prediction -----------------------------------------------------------
    def prepare(self, instance: BaseModel) -> Prepared:
        raise NotImplementedError

    def predict_batch(self, payloads: list) -> list:
        raise NotImplementedError

    def check_request(self, prepared: list[Prepared]) -> None:
        """Refuse a request whose instances together cost too much (a DataError); the
        default lets every request through."""

    # ---- sessions -----------------------------------------------------------------------
    def open_session(self, body: BaseModel | None) -> Any:
        raise ConfigError(f"model {self.name!r} (task {self.task!r}) has no streaming sessions; "
                          f"use POST /v1/models/{self.name}/predict")

    def prepare_step(self, state: Any, step: BaseModel) -> Prepared:
        """Validate a step against the session's ``state`` (read only: the session's lock
        is held, so nothing else changes it); refuse it before anything changes."""
        raise NotImplementedError

    def step_batch(self, pairs: list[tuple[Any, Any]]) -> list:
        """``[(session state, prepared payload)]`` -> one output per pair, in order. The
        states passed are staged copies (:meth:`stage`): the server keeps a copy as the
        session's state only once its step is answered, so a refused step changes nothing."""
        raise NotImplementedError

    def stage(self, state: Any) -> Any:
        """A copy of a session's ``state`` that a step may change while the original stays
        as it was. The default deep-copies it but shares the estimator and every object
        it holds (network, vocabulary): only the stream's own buffers are copied."""
        shared = self.__dict__.get("_shared")
        if shared is None:
            shared = self._shared = {id(self.estimator): self.estimator}
            for value in vars(self.estimator).values():
                shared[id(value)] = value
                if hasattr(value, "modules") and callable(value.modules):  # a torch module
                    for part in value.modules():
                        shared[id(part)] = part
                        for t in [*part.parameters(recurse=False), *part.buffers(recurse=False)]:
                            shared[id(t)] = t
        return copy.deepcopy(state, dict(shared))


def register_adapter(task: str):
    def decorate(cls):
        cls.task = task
        _ADAPTERS[task] = cls
        return cls
    return decorate


def adapter_for(estimator, name: str) -> TaskAdapter:
    """The adapter serving ``estimator`` (found by its task name)."""
    task = getattr(type(estimator), "task_name", None)
    cls = _ADAPTERS.get(task)
    if cls is None:
        raise ConfigError(f"model {name!r}: task {task!r} cannot be served yet "
                          f"(servable tasks: {sorted(_ADAPTERS)})")
    return cls(estimator, name)


def per_item(fn, items: list) -> list:
    """``[fn(item) or the Exception it raised]``: one bad item fails only its request."""
    out = []
    for item in items:
        try:
            out.append(fn(item))
        except Exception as err:  # noqa: BLE001 - handed to that request's future
            out.append(err)
    return out


def floats(values) -> list:
    """A JSON-safe list: NaN becomes None."""
    return [None if v != v else float(v) for v in np.asarray(values, dtype=np.float64).ravel()]
