"""Parity with torch.nn on randomly drawn configurations, for every code path.

Our layers are loaded from a torch.nn state dict; outputs, final states and gradients
(input, initial state, every parameter) must match torch.nn to 1e-5 in float32 and
1e-10 in float64; and our state dict loads back into torch.nn.
"""

import random

import pytest
import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence

import rnnkit

TORCH = {"RNN": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}
OURS = {"RNN": rnnkit.nn.RNN, "LSTM": rnnkit.nn.LSTM, "GRU": rnnkit.nn.GRU}
TOL = {torch.float32: 1e-5, torch.float64: 1e-10}


def draw_config(seed: int) -> dict:
    rng = random.Random(seed)
    mode = rng.choice(["RNN", "LSTM", "GRU"])
    hidden = rng.choice([3, 5, 8])
    return dict(
        mode=mode, input_size=rng.choice([1, 4, 6]), hidden_size=hidden,
        num_layers=rng.randint(1, 3), bidirectional=rng.random() < 0.5,
        batch_first=rng.random() < 0.5, bias=rng.random() < 0.85,
        proj_size=rng.choice([0, 0, 2]) if mode == "LSTM" else 0,
        nonlinearity=rng.choice(["tanh", "relu"]) if mode == "RNN" else None,
        input_format=rng.choice(["full", "padded", "packed"]),
        with_hx=rng.random() < 0.5, dtype=rng.choice([torch.float32, torch.float64]),
        batch=rng.randint(1, 5), length=rng.randint(1, 9),
    )


def build_pair(cfg):
    kw = dict(num_layers=cfg["num_layers"], bias=cfg["bias"], batch_first=cfg["batch_first"],
              bidirectional=cfg["bidirectional"])
    if cfg["mode"] == "LSTM":
        kw["proj_size"] = cfg["proj_size"]
    if cfg["mode"] == "RNN":
        kw["nonlinearity"] = cfg["nonlinearity"]
    ref = TORCH[cfg["mode"]](cfg["input_size"], cfg["hidden_size"], **kw).to(cfg["dtype"])
    ours = OURS[cfg["mode"]](cfg["input_size"], cfg["hidden_size"], **kw).to(cfg["dtype"])
    ours.load_state_dict(ref.state_dict())
    return ref, ours


def make_inputs(cfg, gen):
    N, L, dt = cfg["batch"], cfg["length"], cfg["dtype"]
    shape = (N, L, cfg["input_size"]) if cfg["batch_first"] else (L, N, cfg["input_size"])
    x = torch.randn(shape, generator=gen, dtype=dt)
    lengths = torch.randint(1, L + 1, (N,), generator=gen)
    lengths[0] = L
    hx = None
    if cfg["with_hx"]:
        D = 2 if cfg["bidirectional"] else 1
        P = cfg["proj_size"] or cfg["hidden_size"]
        h0 = torch.randn(cfg["num_layers"] * D, N, P, generator=gen, dtype=dt)
        c0 = torch.randn(cfg["num_layers"] * D, N, cfg["hidden_size"], generator=gen, dtype=dt)
        hx = (h0, c0) if cfg["mode"] == "LSTM" else h0
    return x, lengths, hx


def leaves(hx):
    if hx is None:
        return None
    if isinstance(hx, tuple):
        return tuple(h.clone().requires_grad_() for h in hx)
    return hx.clone().requires_grad_()


def call(layer, cfg, x, lengths, hx, ours: bool):
    """Run a layer in the config's input format; returns (padded-or-data output, finals)."""
    fmt = cfg["input_format"]
    if fmt == "packed":
        packed = pack_padded_sequence(x, lengths, batch_first=cfg["batch_first"], enforce_sorted=False)
        out, final = layer(packed, hx)
        assert isinstance(out, PackedSequence)
        return out.data, final
    if fmt == "padded":
        if ours:
            out, final = layer(x, hx, lengths=lengths)
        else:  # torch.nn needs packing for per-sequence lengths
            packed = pack_padded_sequence(x, lengths, batch_first=cfg["batch_first"], enforce_sorted=False)
            out, final = layer(packed, hx)
            out, _ = torch.nn.utils.rnn.pad_packed_sequence(
                out, batch_first=cfg["batch_first"], total_length=cfg["length"])
        return out, final
    return layer(x, hx)


def flat(final):
    return list(final) if isinstance(final, tuple) else [final]


def grads_of(layer, cfg, x, lengths, hx, ours):
    x = x.clone().requires_grad_()
    hx = leaves(hx)
    out, final = call(layer, cfg, x, lengths, hx, ours)
    gen = torch.Generator().manual_seed(1)
    loss = (out * torch.randn(out.shape, generator=gen, dtype=out.dtype)).sum()
    for h in flat(final):
        loss = loss + (h * torch.randn(h.shape, generator=gen, dtype=h.dtype)).sum()
    layer.zero_grad()
    loss.backward()
    grads = {"input": x.grad}
    for i, h in enumerate(flat(hx) if hx is not None else []):
        grads[f"hx{i}"] = h.grad
    grads.update({n: p.grad for n, p in layer.named_parameters()})
    return out.detach(), [h.detach() for h in flat(final)], grads


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("impl", ["torch", "rnnkit", "reference"])
def test_matches_torch_nn(seed, impl):
    cfg = draw_config(seed)
    torch.manual_seed(seed)
    ref, ours = build_pair(cfg)
    ours.impl = impl
    gen = torch.Generator().manual_seed(seed)
    x, lengths, hx = make_inputs(cfg, gen)
    out_r, fin_r, g_r = grads_of(ref, cfg, x, lengths, hx, ours=False)
    out_o, fin_o, g_o = grads_of(ours, cfg, x, lengths, hx, ours=True)
    tol = TOL[cfg["dtype"]]
    torch.testing.assert_close(out_o, out_r, atol=tol, rtol=tol, msg=f"output {cfg}")
    for a, b in zip(fin_o, fin_r):
        torch.testing.assert_close(a, b, atol=tol, rtol=tol, msg=f"final state {cfg}")
    assert g_o.keys() == g_r.keys()
    for name in g_r:
        torch.testing.assert_close(g_o[name], g_r[name], atol=tol, rtol=tol, msg=f"grad {name} {cfg}")


@pytest.mark.parametrize("seed", range(0, 40, 4))
def test_state_dict_loads_into_torch_nn(seed):
    cfg = draw_config(seed)
    ref, ours = build_pair(cfg)
    torch.nn.init.normal_(ours.weight_ih_l0)  # make ours differ from ref first
    ref.load_state_dict(ours.state_dict())
    x, lengths, hx = make_inputs(cfg, torch.Generator().manual_seed(seed))
    torch.testing.assert_close(ours(x, hx)[0], ref(x, hx)[0])


def test_unbatched_input_matches_torch():
    ref, ours = build_pair(dict(draw_config(3), mode="LSTM", proj_size=0, dtype=torch.float64))
    x = torch.randn(6, ref.input_size, dtype=torch.float64)
    for impl in ["torch", "rnnkit", "reference"]:
        ours.impl = impl
        out, (h, c) = ours(x)
        out_r, (h_r, c_r) = ref(x)
        torch.testing.assert_close(out, out_r)
        torch.testing.assert_close(h, h_r)
        torch.testing.assert_close(c, c_r)


def test_torch_compat_helpers():
    ours = rnnkit.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    ref = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    ours.flatten_parameters()
    assert [[tuple(w.shape) for w in ws] for ws in ours.all_weights] == \
        [[tuple(w.shape) for w in ws] for ws in ref.all_weights]
