"""torch.autograd.gradcheck in float64 for each extra and each path.

rnnkit has no hand-written backward yet (the fast path is differentiated by autograd);
these checks hold every path's gradients to finite differences, and any hand-written
BPTT added later must join this list.
"""

import pytest
import torch
from torch.autograd import gradcheck

import rnnkit

CASES = [
    ("LSTM", dict(layer_norm=True)),
    ("GRU", dict(layer_norm=True)),
    ("RNN", dict(layer_norm=True)),
    ("LSTM", dict(zoneout=0.3)),
    ("GRU", dict(zoneout=0.3)),
    ("LSTM", dict(recurrent_dropout=0.3)),
    ("GRU", dict(recurrent_dropout=0.3)),
    ("LSTM", dict(layer_norm=True, recurrent_dropout=0.2, zoneout=0.2, proj_size=2)),
    ("GRU", dict(layer_norm=True, recurrent_dropout=0.2, zoneout=0.2)),
]


@pytest.mark.parametrize("mode,extras", CASES, ids=[f"{m}-{'-'.join(e)}" for m, e in CASES])
@pytest.mark.parametrize("impl", ["rnnkit", "reference"])
@pytest.mark.parametrize("training", [True, False])
def test_gradcheck(mode, extras, impl, training):
    layer = getattr(rnnkit.nn, mode)(2, 3, num_layers=2, bidirectional=True, impl=impl,
                                     **extras).double().train(training)
    x = torch.randn(4, 2, 2, dtype=torch.float64, requires_grad=True)
    lengths = torch.tensor([4, 2])
    params = tuple(layer.parameters())

    def fn(x, *ps):  # gradcheck perturbs x and every parameter
        torch.manual_seed(3)  # identical masks on every evaluation
        out, final = torch.func.functional_call(
            layer, {n: v for (n, _), v in zip(layer.named_parameters(), ps)}, (x,), {"lengths": lengths})
        h = final[0] if isinstance(final, tuple) else final
        return out, h

    assert gradcheck(fn, (x, *[p.detach().clone().requires_grad_() for p in params]),
                     eps=1e-6, atol=1e-5, fast_mode=True)


@pytest.mark.parametrize("cell", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_gradcheck_with_layer_norm(cell):
    c = getattr(rnnkit.nn, cell)(3, 4, layer_norm=True).double()
    x = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    h = torch.randn(2, 4, dtype=torch.float64, requires_grad=True)
    state = (h, h.clone()) if cell == "LSTMCell" else h
    assert gradcheck(lambda x: c.step(x, state)[0], (x,))
