"""Fixtures for the trainer tests; the shared models and data are in train_helpers.py."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _few_threads():
    # Deterministic, and kind to a 2-core CI machine.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
