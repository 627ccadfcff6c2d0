"""Shared test settings: deterministic CPU math, small thread count for the 2-core CI."""

import pytest
import torch

torch.set_num_threads(2)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
    yield
