"""Cells against torch.nn cells, and the Recurrent(cell) loop against the layers."""

import doctest

import pytest
import torch

import rnnkit
from rnnkit.nn import recurrent

PAIRS = [("RNNCell", torch.nn.RNNCell), ("LSTMCell", torch.nn.LSTMCell), ("GRUCell", torch.nn.GRUCell)]


@pytest.mark.parametrize("name,torch_cls", PAIRS)
@pytest.mark.parametrize("batched", [True, False])
def test_cell_matches_torch_cell(name, torch_cls, batched):
    ref = torch_cls(3, 4).double()
    ours = getattr(rnnkit.nn, name)(3, 4).double()
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(5, 3, dtype=torch.float64) if batched else torch.randn(3, dtype=torch.float64)
    hshape = (5, 4) if batched else (4,)
    hx = (torch.randn(hshape, dtype=torch.float64), torch.randn(hshape, dtype=torch.float64))
    hx = hx if name == "LSTMCell" else hx[0]
    torch.testing.assert_close(ours(x, hx), ref(x, hx), atol=1e-12, rtol=0)
    torch.testing.assert_close(ours(x), ref(x), atol=1e-12, rtol=0)


def test_relu_rnn_cell():
    ref = torch.nn.RNNCell(3, 4, nonlinearity="relu")
    ours = rnnkit.nn.RNNCell(3, 4, nonlinearity="relu")
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(2, 3)
    torch.testing.assert_close(ours(x), ref(x))


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("reverse", [False, True])
def test_recurrent_cell_loop_equals_layer(mode, reverse):
    layer = getattr(rnnkit.nn, mode)(3, 4, bidirectional=True, layer_norm=True).double().eval()
    cell = getattr(rnnkit.nn, mode + "Cell")(3, 4, layer_norm=True).double()
    s = "_l0_reverse" if reverse else "_l0"
    cell.load_state_dict({k.replace(s, ""): v for k, v in layer.state_dict().items() if k.endswith(s)})
    x, lengths = torch.randn(6, 2, 3, dtype=torch.float64), torch.tensor([6, 3])
    out, final = layer(x, lengths=lengths)
    y, cell_final = rnnkit.nn.Recurrent(cell, reverse=reverse)(x, lengths=lengths)
    half = slice(4, 8) if reverse else slice(0, 4)
    torch.testing.assert_close(y, out[..., half])
    h_cell = cell_final[0] if mode == "LSTM" else cell_final
    h_layer = final[0] if mode == "LSTM" else final
    torch.testing.assert_close(h_cell, h_layer[1 if reverse else 0])


def test_the_custom_cell_recipe_in_the_docstring_runs():
    result = doctest.testmod(recurrent, raise_on_error=False)
    assert result.attempted >= 5 and result.failed == 0


def test_custom_cell_with_tuple_state_and_batch_first():
    class Twin(torch.nn.Module):
        state_size = (2, 3)

        def step(self, x_t, state):
            a, b = state
            a = a + x_t[:, :2]
            b = b + x_t.sum(-1, keepdim=True)
            return torch.cat([a, b], -1), (a, b)

    x = torch.ones(2, 4, 2)  # (N, L, H_in)
    y, (a, b) = rnnkit.nn.Recurrent(Twin(), batch_first=True)(x, lengths=[4, 2])
    assert y.shape == (2, 4, 5)
    torch.testing.assert_close(a, torch.tensor([[4.0, 4.0], [2.0, 2.0]]))
    torch.testing.assert_close(b, torch.tensor([[8.0] * 3, [4.0] * 3]))
    assert (y[1, 2:] == 0).all()


def test_recurrent_refuses_an_object_that_is_not_a_cell():
    with pytest.raises(rnnkit.errors.ConfigError, match="step\\(x_t, state\\)"):
        rnnkit.nn.Recurrent(torch.nn.Linear(2, 2))
