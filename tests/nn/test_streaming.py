"""layer.step(x_t, state): feeding a sequence one step at a time gives the outputs and
state of the whole-sequence call at inference."""

import pytest
import torch

import rnnkit


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("extras", [{}, dict(layer_norm=True, zoneout=0.2, recurrent_dropout=0.3)])
def test_step_by_step_equals_whole_sequence(mode, extras):
    kw = dict(proj_size=3) if mode == "LSTM" else {}
    layer = getattr(rnnkit.nn, mode)(4, 6, num_layers=2, dropout=0.1, **kw, **extras).double().eval()
    x = torch.randn(7, 3, 4, dtype=torch.float64)
    out, final = layer(x)
    state, ys = None, []
    for t in range(x.shape[0]):
        y, state = layer.step(x[t], state)
        ys.append(y)
    torch.testing.assert_close(torch.stack(ys), out, atol=1e-12, rtol=0)
    for a, b in zip(state if isinstance(state, tuple) else [state],
                    final if isinstance(final, tuple) else [final]):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)


def test_step_unbatched():
    layer = rnnkit.nn.GRU(2, 3).eval()
    y, h = layer.step(torch.randn(2))
    assert y.shape == (3,) and h.shape == (1, 3)


def test_step_refuses_bidirectional_and_training_with_regularisers():
    with pytest.raises(rnnkit.errors.ConfigError, match="bidirectional"):
        rnnkit.nn.LSTM(2, 3, bidirectional=True).eval().step(torch.randn(1, 2))
    with pytest.raises(rnnkit.errors.ConfigError, match="eval"):
        rnnkit.nn.LSTM(2, 3, zoneout=0.1).train().step(torch.randn(1, 2))
