"""The task registry: register, save, load back; unknown tasks named with a suggestion."""

from __future__ import annotations

import pytest
import torch

from rnnkit.bundle import Bundle, save_bundle
from rnnkit.errors import BundleError, ConfigError
from rnnkit.tasks import registry


@pytest.fixture(autouse=True)
def empty_registry(monkeypatch):
    """Each test registers into its own registry, so dummy tasks never leak out."""
    monkeypatch.setattr(registry, "_TASKS", {})


def _dummy_task(name: str = "dummy-task") -> type:
    @registry.register_task(name)
    class Dummy:
        def __init__(self, scale: float = 1.0):
            self.scale = scale
            self.weight_ = torch.zeros(3)

        def save(self, path):
            return save_bundle(path, task=self.task_name, config={"scale": self.scale},
                               tensors={"weight": self.weight_})

        @classmethod
        def _from_bundle(cls, bundle: Bundle) -> "Dummy":
            model = cls(**bundle.config)
            model.weight_ = bundle.tensors["weight"]
            return model

    return Dummy


def test_load_returns_an_instance_of_the_registered_class(tmp_path):
    dummy = _dummy_task()
    model = dummy(scale=2.5)
    model.weight_ = torch.tensor([1.0, -2.0, 3.0])
    path = model.save(tmp_path / "d.rnnkit")
    loaded = registry.load(path)
    assert isinstance(loaded, dummy)
    assert loaded.scale == 2.5 and torch.equal(loaded.weight_, model.weight_)


def test_register_sets_task_name_and_lists_it():
    dummy = _dummy_task("dummy-task")
    assert dummy.task_name == "dummy-task"
    assert registry.task_names() == ["dummy-task"]
    assert registry.task_class("dummy-task") is dummy


def test_unknown_task_suggests_the_nearest_and_a_newer_rnnkit(tmp_path):
    _dummy_task("dummy-task")
    path = save_bundle(tmp_path / "d.rnnkit", task="dummy-taks", config={}, tensors={})
    with pytest.raises(BundleError) as info:
        registry.load(path)
    message = str(info.value)
    assert "unknown task 'dummy-taks'; did you mean 'dummy-task'?" in message
    assert "newer rnnkit" in message and "d.rnnkit" in message


def test_unknown_task_with_nothing_close_lists_valid_names():
    _dummy_task("forecaster")
    with pytest.raises(BundleError, match="valid: 'forecaster'"):
        registry.task_class("zzz")


def test_class_without_from_bundle_is_refused():
    with pytest.raises(ConfigError, match="expected a classmethod _from_bundle"):
        registry.register_task("broken")(type("Broken", (), {}))


def test_a_name_taken_by_another_class_is_refused():
    _dummy_task("dummy-task")
    other = type("Other", (), {"_from_bundle": classmethod(lambda cls, b: cls())})
    with pytest.raises(ConfigError, match="already used by"):
        registry.register_task("dummy-task")(other)


def test_re_registering_the_same_class_is_allowed():
    first = _dummy_task("dummy-task")
    second = _dummy_task("dummy-task")  # same module and qualname, as after a reload
    assert registry.task_class("dummy-task") is second is not first
