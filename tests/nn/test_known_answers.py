"""Known-answer tests: fixed weights, fixed inputs, hard-coded outputs for each cell,
with and without layer norm. The numbers were computed once with a separate NumPy
implementation of the equations in the cell docstrings (H = 2, three steps from h0 = 0).
"""

import pytest
import torch

import rnnkit

X = torch.tensor([[0.5, -1.0], [1.5, 0.25], [-0.75, 2.0]], dtype=torch.float64)  # (L, H_in)

EXPECTED = {  # (mode, layer_norm): (h_t for t = 1..3, final c or None)
    ("RNN", False): ([[-0.029991, -0.0599281], [-0.50946983, -0.16739875],
                      [-0.07689713, 0.03986904]], None),
    ("RNN", True): ([[0.72495273, -0.76493601], [-0.19282099, 0.10487836],
                     [-0.10682258, 0.01723]], None),
    ("LSTM", False): ([[-0.00650281, -0.01510944], [-0.07686826, 0.00564849],
                       [-0.07051347, 0.06223984]], [-0.11781218, 0.13684277]),
    ("LSTM", True): ([[0.18475691, -0.43040465], [-0.46856735, 0.44951831],
                      [-0.65353855, 0.08195094]], [0.14783193, 0.57275741]),
    ("GRU", False): ([[-0.00771916, -0.02159619], [-0.14604342, 0.01729676],
                      [-0.11466371, 0.18596772]], None),
    ("GRU", True): ([[-0.12824155, -0.06128136], [-0.49701473, 0.03492125],
                     [-0.47131852, 0.73727211]], None),
}
GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}


def fixed_weights(mode):
    G, H, I = GATES[mode], 2, 2
    ar = lambda n: torch.arange(n, dtype=torch.float64)  # noqa: E731
    return {
        "weight_ih": ((ar(G * H * I) % 7 - 3) * 0.1).reshape(G * H, I),
        "weight_hh": ((ar(G * H * H) % 5 - 2) * 0.15).reshape(G * H, H),
        "bias_ih": (ar(G * H) % 3 - 1) * 0.05,
        "bias_hh": (ar(G * H) % 4 - 1.5) * 0.02,
    }


def load_fixed(module, mode, suffix=""):
    with torch.no_grad():
        for name, value in fixed_weights(mode).items():
            getattr(module, name + suffix).copy_(value)


@pytest.mark.parametrize("mode,layer_norm", list(EXPECTED))
def test_cell_known_answer(mode, layer_norm):
    cell = getattr(rnnkit.nn, mode + "Cell")(2, 2, layer_norm=layer_norm).double()
    load_fixed(cell, mode)
    out, final = rnnkit.nn.Recurrent(cell)(X)
    expected_h, expected_c = EXPECTED[(mode, layer_norm)]
    torch.testing.assert_close(out, torch.tensor(expected_h, dtype=torch.float64), atol=1e-7, rtol=0)
    if expected_c is not None:
        torch.testing.assert_close(final[1], torch.tensor(expected_c, dtype=torch.float64),
                                   atol=1e-7, rtol=0)


@pytest.mark.parametrize("mode,layer_norm", list(EXPECTED))
@pytest.mark.parametrize("impl", ["auto", "rnnkit", "reference"])
def test_layer_known_answer(mode, layer_norm, impl):
    layer = getattr(rnnkit.nn, mode)(2, 2, layer_norm=layer_norm, impl=impl).double()
    load_fixed(layer, mode, "_l0")
    out, final = layer(X)
    expected_h, _ = EXPECTED[(mode, layer_norm)]
    torch.testing.assert_close(out, torch.tensor(expected_h, dtype=torch.float64), atol=1e-7, rtol=0)


def test_zoneout_known_answer_at_inference():
    """Zoneout p at inference: h_t = p h_{t-1} + (1 - p) h~_t, by hand for one unit."""
    layer = rnnkit.nn.RNN(1, 1, bias=False, zoneout=0.25).double().eval()
    with torch.no_grad():
        layer.weight_ih_l0.fill_(1.0)
        layer.weight_hh_l0.fill_(0.5)
    out, _ = layer(torch.tensor([[1.0], [2.0]], dtype=torch.float64))
    h1 = 0.75 * torch.tanh(torch.tensor(1.0, dtype=torch.float64))
    h2 = 0.25 * h1 + 0.75 * torch.tanh(2.0 + 0.5 * h1)
    torch.testing.assert_close(out.flatten(), torch.stack([h1, h2]))
