"""The task registry: which class rebuilds a model file of each task, and :func:`load`.

A model file names its task (``"task"`` in ``rnnkit.json``); :func:`load` reads the file
and hands the verified :class:`~rnnkit.bundle.Bundle` to the class registered under that
name. The contract a task class follows::

    @register_task("forecaster")
    class Forecaster:
        def save(self, path):
            # everything needed to predict, as JSON values and tensors
            return save_bundle(path, task=self.task_name, config=..., tensors=...,
                               preprocessing=..., metrics=...)

        @classmethod
        def _from_bundle(cls, bundle: Bundle) -> "Forecaster":
            # rebuild a fitted estimator from bundle.config / .tensors / .preprocessing
            ...

``register_task`` sets ``cls.task_name`` so ``save`` and the registry agree on the name.
Built-in tasks register when :mod:`rnnkit.tasks` is imported (its ``__init__`` imports
every task module); :func:`load` imports it first.
"""

from __future__ import annotations

import importlib
import os
from typing import Any, Callable, TypeVar

from rnnkit.bundle import read_bundle
from rnnkit.errors import BundleError, ConfigError, RnnkitError, problem, unknown_name

T = TypeVar("T", bound=type)

_TASKS: dict[str, type] = {}


def register_task(name: str) -> Callable[[T], T]:
    """Class decorator: register ``cls`` as the class that loads files of task ``name``."""
    if not isinstance(name, str) or not name:
        raise ConfigError(problem("register_task: name", expected="a non-empty str",
                                  got=repr(name)))

    def decorate(cls: T) -> T:
        if not callable(getattr(cls, "_from_bundle", None)):
            raise ConfigError(problem(f"register_task({name!r}): {cls.__qualname__}",
                                      expected="a classmethod _from_bundle(cls, bundle)",
                                      got="none", fix="add it (see rnnkit.tasks.registry)"))
        old = _TASKS.get(name)
        if old is not None and _qualified(old) != _qualified(cls):  # same name: a reload
            raise ConfigError(problem(f"register_task: task name {name!r}",
                                      expected="a name no other class uses",
                                      got=f"already used by {_qualified(old)}",
                                      fix="choose another name"))
        _TASKS[name] = cls
        cls.task_name = name
        return cls

    return decorate


def task_names() -> list[str]:
    """The registered task names, sorted."""
    return sorted(_TASKS)


def task_class(name: str) -> type:
    """The class registered for task ``name``.

    Raises:
        BundleError: no class is registered under ``name``.
    """
    try:
        return _TASKS[name]
    except KeyError:
        pass
    known = task_names()
    message = unknown_name("task", name, known) if known else f"unknown task {name!r}"
    raise BundleError(f"{message}; a model file of this task may need a newer rnnkit "
                      f"(pip install -U rnnkit) or the module that registers the task "
                      f"must be imported first")


def load(path: str | os.PathLike, *, trusted_keys=None) -> Any:
    """Read the model file at ``path`` and return the fitted estimator it holds.

    Before any weight is read, the file is checked against its task
    (``Estimator.check_file``): settings in range, the keys the task needs, no duplicate
    names, and exactly the tensors — names, dtypes, shapes — the settings imply.
    ``trusted_keys``: public keys of which one must have signed the file (see
    :func:`rnnkit.bundle.read_bundle`); None accepts unsigned files.

    Raises:
        BundleError: the file is unreadable (see :func:`rnnkit.bundle.read_bundle`), its
            task is not registered, or it does not match its task.
    """
    importlib.import_module("rnnkit.tasks")  # registers the built-in tasks
    name = str(path)

    def check(meta, specs) -> None:
        try:
            cls = task_class(meta.task)
        except BundleError as err:
            raise BundleError(f"model file {name!r}: {err}") from None
        checker = getattr(cls, "check_file", None)
        if checker is not None:
            try:
                checker(meta, specs)
            except RnnkitError as err:
                raise BundleError(f"model file {name!r}: {err}") from None

    bundle = read_bundle(path, trusted_keys=trusted_keys, check=check)
    return task_class(bundle.task)._from_bundle(bundle)


def _qualified(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
