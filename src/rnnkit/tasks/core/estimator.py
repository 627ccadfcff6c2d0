"""The estimator core: what every task's estimator shares, and nothing more.

scikit-learn's contract: ``__init__`` only stores the settings (in ``self.config``, a
:class:`~rnnkit.tasks.core.Settings` dataclass); ``fit`` validates them and the data and
returns ``self``; learned state ends in ``_``; using an unfitted estimator raises
:class:`~rnnkit.errors.NotFittedError`; ``get_params`` / ``set_params`` and
``sklearn.base.clone`` work.

A task's estimator in a few lines::

    @register_task("forecast")
    class Forecaster(Estimator):
        Config = ForecastConfig                  # its settings dataclass
        FIT_CALL = "fit(data, time=..., target=...)"

        def fit(self, data, ...):  ...          # sets model_ and the other fitted state
        def _bundle_parts(self) -> BundleParts: # what its model file holds besides settings
        def _restore(self, bundle):  ...        # the inverse: fitted state from a bundle
        def _file_network(self, meta, specs):   # the network a model file's settings imply
        def _check_file_parts(self, meta, specs):  # the task's own checks of a model file

The core writes the model file (:meth:`save`) and reads it back (:meth:`_from_bundle`,
which :func:`rnnkit.load` calls): settings under ``config["settings"]``, the evaluation
metrics, and the parts the task adds. Before any weight is read, :meth:`check_file`
compares the file with the task (:mod:`~rnnkit.tasks.core.file_check`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

import torch

from rnnkit.bundle import Bundle, TensorSpec, save_bundle
from rnnkit.errors import ConfigError, NotFittedError, problem
from rnnkit.tasks.core.file_check import Extra, check_model_file, file_errors
from rnnkit.tasks.core.limits import MAX_PARAMETER_BYTES
from rnnkit.tasks.core.settings import Settings


@dataclass
class BundleParts:
    """What a task adds to its model file: ``config`` beside the settings, ``tensors``
    (name -> tensor) and ``preprocessing`` (vocabularies, scalers: JSON values)."""

    config: dict[str, Any] = field(default_factory=dict)
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)
    preprocessing: dict[str, Any] = field(default_factory=dict)


class Estimator:
    """Base of the seven task estimators (see the module docstring for the recipe)."""

    Config: ClassVar[type[Settings]]  # the task's settings dataclass
    FIT_CALL: ClassVar[str] = "fit(...)"  # how a user fits it, for the NotFittedError message
    task_name: ClassVar[str]  # set by rnnkit.tasks.registry.register_task
    FITTED: ClassVar[str] = "model_"  # the attribute a fitted estimator has
    # what a model file of the task holds (checked by check_file before the weights are read):
    FILE_CONFIG: ClassVar[dict[str, type | tuple]] = {}  # config keys besides "settings"
    FILE_PREPROCESSING: ClassVar[dict[str, type | tuple]] = {}  # preprocessing keys, JSON types
    TENSOR_PREFIX: ClassVar[str] = "model."  # the network's tensors are named PREFIX + state_dict key

    def __init__(self, **settings: Any) -> None:
        self.config = self.Config.from_dict(settings)

    # ---- scikit-learn's parameter protocol ----------------------------------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The settings as keyword arguments of the constructor."""
        return {f.name: getattr(self.config, f.name) for f in fields(self.config)}

    def set_params(self, **params: Any):
        """Change settings (an unknown name is a ConfigError naming the nearest); returns self."""
        self.config = self.Config.from_dict({**self.get_params(), **params})
        return self

    def clone(self):
        """An unfitted copy with the same settings."""
        return type(self)(**copy.deepcopy(self.get_params()))

    def __repr__(self) -> str:
        default = self.Config().to_dict()
        changed = [f"{k}={v!r}" for k, v in self.config.to_dict().items() if default.get(k) != v]
        return f"{type(self).__name__}({', '.join(changed)})"

    # ---- fitted state -------------------------------------------------------------------------
    @property
    def is_fitted(self) -> bool:
        """Whether the estimator holds a fitted model (after ``fit`` or :func:`rnnkit.load`)."""
        return hasattr(self, self.FITTED)

    def __sklearn_is_fitted__(self) -> bool:
        return self.is_fitted

    def check_fitted(self) -> None:
        """Raise :class:`~rnnkit.errors.NotFittedError` unless the estimator is fitted."""
        if not self.is_fitted:
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call "
                                 f"{self.FIT_CALL} or load a saved model with rnnkit.load(path)")

    @property
    def settings_(self) -> dict[str, Any]:
        """Every setting in force after ``fit``: the config with automatic choices resolved."""
        self.check_fitted()
        return {**self.config.to_dict(), **self._automatic_settings()}

    def _automatic_settings(self) -> dict[str, Any]:
        """The settings ``fit`` chose itself (a task overrides it where it has any)."""
        return {}

    # ---- the model file -----------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the model file (``.rnnkit``): settings, the task's parts, metrics; no pickle."""
        self.check_fitted()
        parts = self._bundle_parts()
        total = sum(t.numel() * t.element_size() for t in parts.tensors.values())
        if total > MAX_PARAMETER_BYTES:  # such a file would be refused at load: write none
            raise ConfigError(problem(
                f"{type(self).__name__}.save: the model's tensors", expected=f"at most "
                f"{MAX_PARAMETER_BYTES / 1024**3:g} GiB (what rnnkit.load accepts)",
                got=f"{total / 1024**3:.1f} GiB", fix="fit a smaller model (hidden_size, "
                "num_layers, vocabulary); nothing was written"))
        return save_bundle(path, task=self.task_name,
                           config={"settings": self.config.to_dict(), **parts.config},
                           tensors=parts.tensors, preprocessing=parts.preprocessing,
                           metrics=getattr(self, "metrics_", {}))

    @classmethod
    def check_file(cls, meta: Bundle, specs: dict[str, TensorSpec]) -> None:
        """Check a model file against this task before its weights are read: ``meta`` is the
        file without tensors, ``specs`` each tensor's dtype and shape. Settings in range,
        required keys present, no duplicate names, and exactly the tensors the settings
        imply (see :mod:`rnnkit.tasks.core.file_check`).

        Raises:
            BundleError: one line naming the first field or tensor that is wrong.
        """
        check_model_file(cls, meta, specs)

    @classmethod
    def _from_bundle(cls, bundle: Bundle):
        """The fitted estimator a verified bundle holds (what :func:`rnnkit.load` returns)."""
        with file_errors(f"{cls.Config.WHO} model file"):
            self = cls(**cls._settings_from_file(dict(bundle.config["settings"])))
            self._restore(bundle)
        self.metrics_ = bundle.metrics
        return self

    @classmethod
    def _settings_from_file(cls, settings: dict[str, Any]) -> dict[str, Any]:
        """Settings as saved -> constructor keywords (a task maps renamed settings here)."""
        return settings

    def _bundle_parts(self) -> BundleParts:
        raise NotImplementedError

    def _restore(self, bundle: Bundle) -> None:
        raise NotImplementedError

    def _file_network(self, meta: Bundle, specs: dict[str, TensorSpec]) -> torch.nn.Module:
        """The network a model file's settings and preprocessing imply, unfitted (built on the
        ``meta`` device by :meth:`check_file`, on the CPU by ``_restore``)."""
        raise NotImplementedError

    def _check_file_parts(self, meta: Bundle, specs: dict[str, TensorSpec]) -> dict[str, Extra]:
        """The task's own checks of a model file (names, scalers, frequency …), raising
        BundleError; returns the tensors the file may hold besides the network."""
        return {}
