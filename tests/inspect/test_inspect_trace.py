"""trace_layer: the unrolled layer equals the layer's own outputs, and its gates obey the
cell equations they are drawn for."""

import numpy as np
import pytest
import torch

import rnnkit
from rnnkit.errors import ShapeError
from rnnkit.inspect import gradient_reach, reach_steps, trace_layer

CASES = [dict(), dict(num_layers=2, bidirectional=True), dict(layer_norm=True, zoneout=0.2),
         dict(recurrent_dropout=0.3, num_layers=2, dropout=0.5)]


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("kw", CASES)
def test_trace_equals_the_layer_outputs_and_final_state(mode, kw):
    torch.manual_seed(0)
    layer = getattr(rnnkit.nn, mode)(3, 5, batch_first=True, **kw).double().train()  # trace uses eval
    x = torch.randn(9, 3, dtype=torch.float64)
    h0 = tuple(torch.randn(s, dtype=torch.float64) for s in layer.state_shapes(1))
    tr = trace_layer(layer, x, h0 if mode == "LSTM" else h0[0])
    layer.eval()
    out, final = layer(x[None], h0 if mode == "LSTM" else h0[0])
    np.testing.assert_allclose(tr.output, out[0].detach().numpy(), atol=1e-12)
    h_n = final[0] if mode == "LSTM" else final
    D = layer.num_directions
    for d in tr.directions:
        last = 0 if d.reverse else -1  # a backward direction ends at step 0
        np.testing.assert_allclose(d.h[last], h_n[d.layer * D + int(d.reverse), 0].detach().numpy(), atol=1e-12)
        if mode == "LSTM":
            np.testing.assert_allclose(d.c[last], final[1][d.layer * D + int(d.reverse), 0].detach().numpy(),
                                       atol=1e-12)


def test_lstm_gates_obey_the_cell_update():
    torch.manual_seed(1)
    layer = rnnkit.nn.LSTM(4, 6).double()
    tr = trace_layer(layer, torch.randn(12, 4, dtype=torch.float64))
    d = tr.directions[0]
    i, f, g, o = (d.gates[n] for n in ("input gate i", "forget gate f", "candidate g", "output gate o"))
    c_prev = np.vstack([np.zeros((1, 6)), d.c[:-1]])
    np.testing.assert_allclose(d.c, f * c_prev + i * g, atol=1e-12)
    np.testing.assert_allclose(d.h, o * np.tanh(d.c), atol=1e-12)
    assert ((i > 0) & (i < 1)).all() and ((g > -1) & (g < 1)).all()


def test_gru_gates_obey_the_state_update():
    torch.manual_seed(2)
    layer = rnnkit.nn.GRU(4, 6).double()
    tr = trace_layer(layer, torch.randn(12, 4, dtype=torch.float64))
    d = tr.directions[0]
    z, n = d.gates["update gate z"], d.gates["candidate n"]
    h_prev = np.vstack([np.zeros((1, 6)), d.h[:-1]])
    np.testing.assert_allclose(d.h, (1 - z) * n + z * h_prev, atol=1e-12)


def test_trace_refuses_a_batch():
    layer = rnnkit.nn.GRU(4, 6)
    with pytest.raises(ShapeError, match="one sequence .T >= 1, 4.*pass x\\[0\\]"):
        trace_layer(layer, torch.randn(2, 5, 4))


def test_gradient_reach_matches_the_jacobian_and_vanishes_for_a_contracting_rnn():
    torch.manual_seed(3)
    layer = rnnkit.nn.RNN(2, 4).double()
    with torch.no_grad():
        layer.weight_hh_l0.mul_(0.1)  # contracting: the gradient must fall with distance
    x = torch.randn(30, 2, dtype=torch.float64)
    fn = lambda v: layer(v)[0][-1].sum()  # noqa: E731
    norms = gradient_reach(fn, x)
    jac = torch.autograd.functional.jacobian(fn, x)  # (T, F)
    np.testing.assert_allclose(norms, jac.norm(dim=1).numpy(), rtol=1e-10)
    assert norms[-1] > 1e3 * norms[-10] and reach_steps(norms) < 10
