"""One shared layer harness (as Keras' run_layer_test): shapes, parameter count,
state-dict round trip, one training step, batch-first against time-first — for every
layer and combination of extras."""

import pytest
import torch

import rnnkit

LAYERS = [
    ("RNN", {}), ("LSTM", {}), ("GRU", {}),
    ("LSTM", dict(proj_size=3)),
    ("RNN", dict(layer_norm=True, zoneout=0.1)),
    ("LSTM", dict(layer_norm=True, recurrent_dropout=0.2, zoneout=0.1)),
    ("GRU", dict(layer_norm=True, recurrent_dropout=0.2, zoneout=0.1)),
]


def expected_param_count(mode, I, H, layers, D, extras):
    G = {"RNN": 1, "LSTM": 4, "GRU": 3}[mode] * H
    P = extras.get("proj_size", 0) or H
    total = 0
    for k in range(layers):
        layer_in = I if k == 0 else P * D
        per_dir = G * layer_in + G * P + 2 * G + (P * H if extras.get("proj_size") else 0)
        if extras.get("layer_norm"):
            per_dir += 2 * G + (2 * H if mode == "LSTM" else 0)
        total += per_dir * D
    return total


@pytest.mark.parametrize("mode,extras", LAYERS, ids=[f"{m}{'-' + '-'.join(e) if e else ''}" for m, e in LAYERS])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_layer_harness(mode, extras, bidirectional):
    I, H, layers, N, L = 4, 6, 2, 3, 5
    D = 2 if bidirectional else 1
    P = extras.get("proj_size", 0) or H
    make = lambda bf: getattr(rnnkit.nn, mode)(I, H, num_layers=layers, bidirectional=bidirectional,  # noqa: E731
                                               batch_first=bf, **extras)
    layer = make(False)
    # 1. parameter count
    assert sum(p.numel() for p in layer.parameters()) == expected_param_count(mode, I, H, layers, D, extras)
    # 2. shapes
    x = torch.randn(L, N, I)
    out, final = layer.eval()(x)
    assert out.shape == (L, N, D * P)
    finals = final if isinstance(final, tuple) else (final,)
    assert finals[0].shape == (layers * D, N, P)
    if mode == "LSTM":
        assert finals[1].shape == (layers * D, N, H)
    # 3. state-dict round trip
    twin = make(False).eval()
    twin.load_state_dict(layer.state_dict())
    torch.testing.assert_close(twin(x)[0], out)
    # 4. batch-first against time-first
    bf = make(True).eval()
    bf.load_state_dict(layer.state_dict())
    torch.testing.assert_close(bf(x.transpose(0, 1))[0].transpose(0, 1), out)
    # 5. one training step changes every parameter and lowers the loss on that batch
    layer.train()
    opt = torch.optim.SGD(layer.parameters(), lr=0.1)
    before = {n: p.detach().clone() for n, p in layer.named_parameters()}
    torch.manual_seed(1)
    loss0 = (layer(x)[0] ** 2).mean()
    loss0.backward()
    opt.step()
    for n, p in layer.named_parameters():
        assert not torch.equal(before[n], p.detach()), f"{n} did not change"
    layer.eval()
    assert (layer(x)[0] ** 2).mean() < (twin(x)[0] ** 2).mean()
