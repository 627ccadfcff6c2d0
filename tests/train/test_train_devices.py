"""Device choice and mixed precision off CUDA."""

from __future__ import annotations

import pytest
import torch
from train_helpers import linear_loss, regression_data

from rnnkit.errors import ConfigError
from rnnkit.train import TrainConfig, Trainer
from rnnkit.train.devices import select_device


def test_auto_prefers_cuda_then_mps_then_cpu():
    expected = "cuda" if torch.cuda.is_available() else (
        "mps" if torch.backends.mps.is_available() else "cpu")
    assert select_device("auto").type == expected
    assert select_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_asking_for_a_missing_gpu_says_so():
    with pytest.raises(ConfigError, match=r"TrainConfig.device: expected a device this machine has, "
                                          r"got 'cuda' \(no CUDA GPU is visible; use 'auto' or 'cpu'\)"):
        select_device("cuda")


def test_a_bad_device_string_is_a_config_error():
    with pytest.raises(ConfigError, match="TrainConfig.device: expected 'auto', 'cpu'"):
        select_device("gpu0")


def test_amp_on_cpu_warns_and_trains_in_float32():
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    cfg = TrainConfig(epochs=2, amp=True, device="cpu", progress="none")
    with pytest.warns(UserWarning, match="amp=True is ignored on cpu"):
        history = Trainer(model, linear_loss, cfg).fit([regression_data()])
    assert history.steps == 2 and model.weight.dtype == torch.float32
