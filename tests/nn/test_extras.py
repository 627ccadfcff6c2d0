"""The extras (layer_norm, recurrent_dropout, zoneout): fast path against the reference
loop in training and eval mode, in every combination, with stacking, both directions and
variable lengths; padding never changes a real step; masks behave as the papers define."""

import itertools

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

import rnnkit

MODES = {"RNN": rnnkit.nn.RNN, "LSTM": rnnkit.nn.LSTM, "GRU": rnnkit.nn.GRU}
EXTRAS = [dict(layer_norm=ln, recurrent_dropout=rd, zoneout=zo)
          for ln, rd, zo in itertools.product([False, True], [0.0, 0.3], [0.0, 0.25])
          if ln or rd or zo]


def run_seeded(layer, impl, x, lengths, hx=None, seed=7):
    layer.impl = impl
    torch.manual_seed(seed)  # same masks on every path
    x = x.clone().requires_grad_()
    out, final = layer(x, hx, lengths=lengths)
    finals = list(final) if isinstance(final, tuple) else [final]
    loss = (out ** 2).sum() + sum((h * 0.5).sum() for h in finals)
    layer.zero_grad()
    loss.backward()
    grads = [x.grad] + [p.grad.clone() for p in layer.parameters()]
    return out.detach(), [h.detach() for h in finals], grads


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("extras", EXTRAS, ids=lambda e: "-".join(f"{k}={v}" for k, v in e.items() if v))
@pytest.mark.parametrize("training", [True, False])
def test_fast_path_matches_reference(mode, extras, training):
    kw = dict(proj_size=2) if mode == "LSTM" else {}
    layer = MODES[mode](4, 5, num_layers=2, bidirectional=True, batch_first=True, dropout=0.2,
                        **kw, **extras).double()
    layer.train(training)
    x = torch.randn(3, 6, 4, dtype=torch.float64)
    lengths = torch.tensor([6, 2, 4])
    ref = run_seeded(layer, "reference", x, lengths)
    fast = run_seeded(layer, "rnnkit", x, lengths)
    for a, b in zip([ref[0], *ref[1], *ref[2]], [fast[0], *fast[1], *fast[2]]):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("mode", list(MODES))
def test_auto_dispatch(mode):
    plain = MODES[mode](3, 4)
    assert plain.select_impl() == "torch"
    extra = MODES[mode](3, 4, zoneout=0.1)
    assert extra.select_impl() == "rnnkit"
    extra.impl = "torch"
    with pytest.raises(rnnkit.errors.ConfigError, match="impl='auto'"):
        extra(torch.randn(2, 1, 3))


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("impl", ["rnnkit", "reference"])
def test_padding_never_changes_a_real_step(mode, impl):
    layer = MODES[mode](3, 4, num_layers=2, bidirectional=True, layer_norm=True, zoneout=0.2).eval()
    layer.impl = impl
    x = torch.randn(5, 2, 3)
    lengths = torch.tensor([5, 3])
    out, final = layer(x, lengths=lengths)
    garbage = x.clone()
    garbage[3:, 1] = 1e3  # change only padded steps of sequence 1
    out2, final2 = layer(garbage, lengths=lengths)
    torch.testing.assert_close(out, out2)
    assert (out[3:, 1] == 0).all()
    alone, final_alone = layer(x[:3, 1:2])  # sequence 1 on its own, no padding at all
    torch.testing.assert_close(out[:3, 1:2], alone)
    for a, b in zip(final if isinstance(final, tuple) else [final],
                    final_alone if isinstance(final_alone, tuple) else [final_alone]):
        torch.testing.assert_close(a[:, 1:2], b)


def test_packed_equals_padded_with_extras():
    layer = rnnkit.nn.GRU(3, 4, num_layers=2, bidirectional=True, layer_norm=True).eval()
    x = torch.randn(6, 3, 3)
    lengths = torch.tensor([2, 6, 4])
    out, h = layer(x, lengths=lengths)
    packed_out, h_p = layer(pack_padded_sequence(x, lengths, enforce_sorted=False))
    padded, _ = torch.nn.utils.rnn.pad_packed_sequence(packed_out, total_length=6)
    torch.testing.assert_close(out, padded)
    torch.testing.assert_close(h, h_p)


def test_recurrent_dropout_is_one_mask_per_sequence():
    """With W_hh = I and zero input weights the masked h_prev shows the mask directly."""
    layer = rnnkit.nn.RNN(1, 6, bias=False, recurrent_dropout=0.5, nonlinearity="relu").train()
    with torch.no_grad():
        layer.weight_ih_l0.fill_(1.0)
        layer.weight_hh_l0.copy_(torch.eye(6))
    x = torch.ones(4, 2, 1)
    out, _ = layer(x)  # h_t = relu(1 + m * h_{t-1}) with one mask m per sequence
    m = (out[1] - 1.0) / out[0]  # the mask, scaled by 1/(1-p): entries 0 or 2
    assert set(m.flatten().tolist()) <= {0.0, 2.0}
    torch.testing.assert_close(out[2], 1.0 + m * out[1])  # same mask at the next step
    torch.testing.assert_close(out[3], 1.0 + m * out[2])
    assert not torch.equal(m[0], m[1]) or True  # masks may differ between sequences


def test_zoneout_expectation_at_inference_and_masks_in_training():
    layer = rnnkit.nn.GRU(2, 50, zoneout=0.3)
    x = torch.randn(8, 4, 2)
    layer.eval()
    ref_layer = rnnkit.nn.GRU(2, 50)
    ref_layer.load_state_dict(layer.state_dict())
    ref_layer.eval()
    # One step from h0 = 0: zoneout at inference gives (1 - p) * h~.
    out, _ = layer(x[:1])
    plain, _ = ref_layer(x[:1])
    torch.testing.assert_close(out, 0.7 * plain)
    # In training each unit either keeps 0 or takes the plain value.
    layer.train()
    out_t, _ = layer(x[:1])
    kept = out_t == 0
    assert 0.15 < kept.float().mean().item() < 0.45
    torch.testing.assert_close(out_t[~kept], plain[~kept])


def test_layer_norm_parameters_and_state_dict():
    layer = rnnkit.nn.LSTM(3, 4, num_layers=2, bidirectional=True, layer_norm=True)
    names = {n for n, _ in layer.named_parameters()}
    for s in ["_l0", "_l0_reverse", "_l1", "_l1_reverse"]:
        assert {f"ln_ih_weight{s}", f"ln_hh_weight{s}", f"ln_c_weight{s}", f"ln_c_bias{s}"} <= names
    assert torch.equal(layer.ln_c_bias_l1, torch.zeros(4))
    assert torch.equal(layer.ln_ih_weight_l0, torch.ones(16))
    torch_layer = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    missing, unexpected = layer.load_state_dict(torch_layer.state_dict(), strict=False)
    assert not unexpected and all(m.startswith("ln_") for m in missing)
