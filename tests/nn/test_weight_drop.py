"""weight_drop (DropConnect on W_hh, AWD-LSTM): every path draws the same mask and matches
the reference; the mask is one per call, shared by the batch and the steps; eval is the
plain layer (torch's fused kernel); gradients reach only the kept weights; bad values fail."""

import pytest
import torch
from torch.autograd import gradcheck

import rnnkit
from rnnkit.errors import ConfigError

MODES = {"RNN": rnnkit.nn.RNN, "LSTM": rnnkit.nn.LSTM, "GRU": rnnkit.nn.GRU}


def seeded(layer, impl, x, seed=5, **kw):
    layer.impl = impl
    torch.manual_seed(seed)
    out, final = layer(x, **kw)
    return out, final


@pytest.mark.parametrize("mode", list(MODES))
def test_every_path_matches_a_layer_whose_w_hh_carries_the_mask(mode):
    p = 0.4
    layer = MODES[mode](3, 5, num_layers=2, bidirectional=True, weight_drop=p).double().train()
    plain = MODES[mode](3, 5, num_layers=2, bidirectional=True).double().train()
    x = torch.randn(7, 2, 3, dtype=torch.float64)
    torch.manual_seed(5)  # the same draws as the layer: one mask per layer and direction, in order
    masked = {}
    for name, w in layer.named_parameters():
        masked[name] = w.detach().clone()
    for k in range(2):
        for suffix in ("", "_reverse"):
            name = f"weight_hh_l{k}{suffix}"
            masked[name] = masked[name] * (torch.rand(masked[name].shape) < 1 - p).double() / (1 - p)
    plain.load_state_dict(masked)
    expected, _ = plain(x)
    for impl in ("reference", "rnnkit", "auto"):
        out, _ = seeded(layer, impl, x)
        torch.testing.assert_close(out, expected, atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_cpu_kernel_and_fast_path_agree_in_float32(mode):
    layer = MODES[mode](4, 8, weight_drop=0.5).train()
    x = torch.randn(6, 3, 4)
    a, _ = seeded(layer, "rnnkit", x)  # the C++ kernel when built, else the fast path
    b, _ = seeded(layer, "reference", x)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_one_mask_per_call_shared_by_the_batch_and_the_steps():
    layer = rnnkit.nn.RNN(1, 6, bias=False, weight_drop=0.5, impl="reference").double().train()
    with torch.no_grad():
        layer.weight_ih_l0.fill_(1.0)
    x = torch.ones(5, 2, 1, dtype=torch.float64)
    torch.manual_seed(0)
    out, _ = layer(x)
    torch.testing.assert_close(out[:, 0], out[:, 1])  # same input, same mask: same outputs
    torch.manual_seed(0)
    again, _ = layer(x)
    torch.manual_seed(1)
    other, _ = layer(x)
    torch.testing.assert_close(out, again)
    assert not torch.allclose(out, other)  # a new call draws a new mask


@pytest.mark.parametrize("mode", list(MODES))
def test_eval_is_the_plain_layer_on_the_fused_kernel(mode):
    layer = MODES[mode](3, 4, weight_drop=0.6).eval()
    plain = MODES[mode](3, 4).eval()
    plain.load_state_dict(layer.state_dict())
    assert layer.select_impl() == "torch" and not layer.has_extras
    x = torch.randn(5, 2, 3)
    torch.testing.assert_close(layer(x)[0], plain(x)[0])
    layer.train()
    assert layer.select_impl() == "rnnkit" and "weight_drop=0.6" in repr(layer)


def test_dropped_weights_get_no_gradient():
    layer = rnnkit.nn.LSTM(3, 4, weight_drop=0.5).train()
    x = torch.randn(6, 2, 3)
    torch.manual_seed(2)
    mask = (torch.rand(layer.weight_hh_l0.shape) < 0.5)
    torch.manual_seed(2)
    out, _ = layer(x)
    out.sum().backward()
    g = layer.weight_hh_l0.grad
    assert torch.all(g[~mask] == 0) and torch.count_nonzero(g[mask]) > 0


@pytest.mark.parametrize("impl", ["rnnkit", "reference"])
@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_gradcheck(mode, impl):
    layer = MODES[mode](2, 3, num_layers=2, bidirectional=True, weight_drop=0.3, layer_norm=True,
                        impl=impl).double().train()
    x = torch.randn(4, 2, 2, dtype=torch.float64, requires_grad=True)
    names = [n for n, _ in layer.named_parameters()]

    def fn(x, *ps):
        torch.manual_seed(3)  # the same mask on every evaluation
        out, final = torch.func.functional_call(layer, dict(zip(names, ps)), (x,), {"lengths": torch.tensor([4, 2])})
        return out

    params = [p.detach().clone().requires_grad_() for p in layer.parameters()]
    assert gradcheck(fn, (x, *params), eps=1e-6, atol=1e-5, fast_mode=True)


@pytest.mark.parametrize("bad", [1.0, -0.1, float("nan"), "0.2", True])
def test_bad_weight_drop_is_one_clear_line(bad):
    with pytest.raises(ConfigError, match=r"LSTM: weight_drop: expected a probability in \[0, 1\)"):
        rnnkit.nn.LSTM(3, 4, weight_drop=bad)


def test_torch_impl_is_refused_in_training_only():
    layer = rnnkit.nn.GRU(3, 4, weight_drop=0.2, impl="torch")
    with pytest.raises(ConfigError, match="weight_drop=0.2"):
        layer.train()(torch.randn(2, 1, 3))
    layer.eval()(torch.randn(2, 1, 3))
