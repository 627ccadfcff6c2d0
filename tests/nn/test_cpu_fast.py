"""rnnkit.nn.cpu: the C++ scan (training and inference) and the streaming Stepper against the
reference loop — outputs, final states and every gradient — plus gradcheck of the
hand-written BPTT in float64 and the dispatch that picks them."""

import itertools

import pytest
import torch
from torch.autograd import gradcheck

import rnnkit
from rnnkit.errors import ConfigError
from rnnkit.nn import cpu, fast
from rnnkit.nn.cpu import Stepper, scan
from rnnkit.nn.masks import SequenceMasks

pytestmark = pytest.mark.skipif(not cpu.available(), reason="rnnkit's CPU kernels did not build")

MODES = {"LSTM": rnnkit.nn.LSTM, "GRU": rnnkit.nn.GRU}
EXTRAS = [dict(layer_norm=ln, recurrent_dropout=rd, zoneout=zo)
          for ln, rd, zo in itertools.product([False, True], [0.0, 0.3], [0.0, 0.25])]


def extras_id(e):
    return "-".join(k for k, v in e.items() if v) or "plain"


def run_seeded(layer, impl, x, seed=7):
    """Outputs, finals and grads (input and every parameter) of one forward/backward."""
    layer.impl = impl
    torch.manual_seed(seed)  # same masks on every path
    x = x.clone().requires_grad_()
    out, final = layer(x)
    finals = list(final) if isinstance(final, tuple) else [final]
    loss = (out ** 2).sum() + sum((h * 0.5).sum() for h in finals)
    layer.zero_grad()
    loss.backward()
    return [out.detach(), *[h.detach() for h in finals], x.grad,
            *[p.grad.clone() for p in layer.parameters()]]


@pytest.fixture
def cpu_calls(monkeypatch):
    """Counts calls of the C++ scan, so a test can assert the path really ran."""
    calls = []
    real = scan.layer_forward
    monkeypatch.setattr(scan, "layer_forward", lambda *a: calls.append(1) or real(*a))
    return calls


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("extras", EXTRAS, ids=extras_id)
@pytest.mark.parametrize("training", [True, False])
def test_scan_matches_reference_float64(mode, extras, training, cpu_calls):
    layer = MODES[mode](4, 5, num_layers=2, bidirectional=True, batch_first=True, dropout=0.2,
                        **extras).double().train(training)
    x = torch.randn(3, 6, 4, dtype=torch.float64)
    ref = run_seeded(layer, "reference", x)
    ours = run_seeded(layer, "rnnkit", x)
    assert cpu_calls, "the C++ scan did not run"
    for a, b in zip(ref, ours):
        torch.testing.assert_close(b, a, atol=1e-9, rtol=1e-9)


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("extras", [EXTRAS[0], EXTRAS[-1]], ids=extras_id)
def test_scan_matches_reference_float32(mode, extras, cpu_calls):
    layer = MODES[mode](8, 16, num_layers=2, **extras).train()
    x = torch.randn(12, 5, 8)
    ref = run_seeded(layer, "reference", x)
    ours = run_seeded(layer, "rnnkit", x)
    assert cpu_calls
    for a, b in zip(ref, ours):
        torch.testing.assert_close(b, a, atol=2e-4, rtol=1e-3)  # float32 sums, other order


def _scan_inputs(mode, ln, rec, zone, L=4, N=3, H=3, seed=0):
    """Random float64 inputs of :class:`CpuScan` (grad on every differentiable one)."""
    g = torch.Generator().manual_seed(seed)
    G = (4 if mode == "LSTM" else 3) * H
    rnd = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)  # noqa: E731
    need = lambda t: t.requires_grad_()  # noqa: E731
    gi, h0, w_hh, b_hh = need(rnd(L, N, G)), need(rnd(N, H)), need(rnd(G, H) * 0.5), need(rnd(G))
    c0 = need(rnd(N, H)) if mode == "LSTM" else None
    ln_hh = need(1 + 0.1 * rnd(G)) if ln else None
    lnc_w = need(1 + 0.1 * rnd(H)) if ln and mode == "LSTM" else None
    lnc_b = need(0.1 * rnd(H)) if ln and mode == "LSTM" else None
    m_rec = (torch.rand(N, H, generator=g, dtype=torch.float64) > 0.3).double() / 0.7 if rec else None
    zh = zc = None
    if zone == "mask":
        zh = (torch.rand(L, N, H, generator=g, dtype=torch.float64) < 0.3).double()
        zc = (torch.rand(L, N, H, generator=g, dtype=torch.float64) < 0.3).double() if mode == "LSTM" else None
    flag = {"off": (0, 0.0), "mask": (1, 0.0), "const": (2, 0.25)}[zone]
    return (mode, flag, gi, h0, c0, w_hh, b_hh, ln_hh, lnc_w, lnc_b, m_rec, zh, zc)


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("ln", [False, True])
@pytest.mark.parametrize("rec", [False, True])
@pytest.mark.parametrize("zone", ["off", "mask", "const"])
def test_bptt_gradcheck(mode, ln, rec, zone):
    args = _scan_inputs(mode, ln, rec, zone)
    assert gradcheck(lambda *a: scan.CpuScan.apply(*a), args, eps=1e-6, atol=1e-6)


@pytest.mark.parametrize("mode", list(MODES))
def test_scan_state_in_and_out(mode, cpu_calls):
    """A given initial state and the final state match the reference, gradients included."""
    layer = MODES[mode](3, 4, layer_norm=True, zoneout=0.2).double()
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    shapes = [(1, 2, 4)] * (2 if mode == "LSTM" else 1)
    results = []
    for impl in ("reference", "rnnkit"):
        layer.impl = impl
        hx = [torch.randn(s, dtype=torch.float64, generator=torch.Generator().manual_seed(i))
              .requires_grad_() for i, s in enumerate(shapes)]
        torch.manual_seed(1)
        out, final = layer(x, tuple(hx) if mode == "LSTM" else hx[0])
        finals = final if isinstance(final, tuple) else (final,)
        (out.sum() + sum(f.pow(2).sum() for f in finals)).backward()
        results.append([out.detach(), *[f.detach() for f in finals], *[h.grad for h in hx]])
    assert cpu_calls
    for a, b in zip(*results):
        torch.testing.assert_close(b, a, atol=1e-10, rtol=1e-10)


# ---- dispatch ---------------------------------------------------------------------------------
def test_auto_takes_the_cpu_scan_for_extras_and_the_gru(cpu_calls):
    rnnkit.nn.LSTM(3, 4, layer_norm=True)(torch.randn(5, 2, 3))
    assert len(cpu_calls) == 1
    rnnkit.nn.GRU(3, 4)(torch.randn(5, 2, 3))  # no oneDNN GRU: ours is faster
    assert len(cpu_calls) == 2
    rnnkit.nn.LSTM(3, 4)(torch.randn(5, 2, 3))  # the plain LSTM stays on torch's oneDNN kernel
    assert len(cpu_calls) == 2


def test_lengths_and_projection_fall_back_to_the_python_fast_path(cpu_calls, monkeypatch):
    fast_calls = []
    real = fast.run
    monkeypatch.setattr(fast, "run", lambda *a: fast_calls.append(1) or real(*a))
    rnnkit.nn.GRU(3, 4, zoneout=0.1)(torch.randn(5, 2, 3), lengths=torch.tensor([5, 3]))
    rnnkit.nn.LSTM(3, 4, proj_size=2, layer_norm=True)(torch.randn(5, 2, 3))
    assert not cpu_calls and len(fast_calls) == 2


def test_kernels_off_falls_back(monkeypatch, cpu_calls):
    monkeypatch.setitem(cpu._build._state, "module", None)
    layer = rnnkit.nn.LSTM(3, 4, layer_norm=True)
    out, _ = layer(torch.randn(5, 2, 3))
    assert out.shape == (5, 2, 4) and not cpu_calls


# ---- streaming ------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("extras", [EXTRAS[0], dict(layer_norm=True, zoneout=0.2, recurrent_dropout=0.3)],
                         ids=extras_id)
@pytest.mark.parametrize("batch", [1, 3])
def test_stepper_matches_the_whole_sequence(mode, extras, batch):
    layer = MODES[mode](6, 8, num_layers=2, **extras).eval()
    x = torch.randn(7, batch, 6)
    with torch.no_grad():
        ref, ref_final = layer(x)
    step = Stepper(layer, batch=batch)
    assert step.fast
    ys = torch.stack([step(x_t) for x_t in x])
    torch.testing.assert_close(ys, ref, atol=2e-5, rtol=1e-4)
    finals = step.state if mode == "LSTM" else (step.state,)
    ref_finals = ref_final if mode == "LSTM" else (ref_final,)
    for a, b in zip(finals, ref_finals):
        torch.testing.assert_close(a, b, atol=2e-5, rtol=1e-4)


def test_stepper_reset_and_unbatched_input():
    layer = rnnkit.nn.LSTM(4, 5, layer_norm=True).eval()
    x = torch.randn(3, 4)
    step = Stepper(layer)
    first = [step(x_t) for x_t in x]
    h0 = layer.zero_state(1)
    step.reset(h0)
    again = [step(x_t) for x_t in x]
    torch.testing.assert_close(torch.stack(first), torch.stack(again))
    with torch.no_grad():
        y, (h, c) = layer.step(x[0], None)
    step.reset()
    torch.testing.assert_close(step(x[0]).squeeze(0), y, atol=1e-6, rtol=1e-5)


def test_stepper_float64_falls_back_to_layer_step():
    layer = rnnkit.nn.GRU(4, 5, zoneout=0.1).double().eval()
    step = Stepper(layer)
    assert not step.fast
    x = torch.randn(6, 1, 4, dtype=torch.float64)
    with torch.no_grad():
        ref, _ = layer(x)
    torch.testing.assert_close(torch.stack([step(x_t) for x_t in x]), ref)


def test_stepper_rejects_training_and_bidirectional():
    with pytest.raises(ConfigError, match=r"call \.eval\(\)"):
        Stepper(rnnkit.nn.LSTM(3, 4, zoneout=0.1))
    with pytest.raises(ConfigError, match="bidirectional"):
        Stepper(rnnkit.nn.GRU(3, 4, bidirectional=True).eval())


def test_stepper_checks_the_input_size():
    step = Stepper(rnnkit.nn.LSTM(3, 4).eval())
    with pytest.raises(RuntimeError, match="input_size 3"):
        step(torch.randn(1, 5))


def test_scan_masks_helper_is_used_as_drawn():
    """Zoneout at inference enters as the constant p, in training as the drawn masks."""
    assert scan._zone(None) == (0, 0.0)
    assert scan._zone(0.25) == (2, 0.25)
    assert scan._zone(torch.zeros(1))[0] == 1
    assert SequenceMasks(zone_h=0.25).at(3).zone_h == 0.25


@pytest.mark.parametrize("mode", list(MODES))
def test_scan_under_inference_mode(mode, cpu_calls):
    layer = MODES[mode](3, 4, layer_norm=True, zoneout=0.1).eval()
    x = torch.randn(5, 2, 3)
    with torch.no_grad():
        layer.impl = "reference"
        ref, _ = layer(x)
    layer.impl = "auto"
    with torch.inference_mode():
        out, _ = layer(x)
    assert cpu_calls
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("mode", list(MODES))
def test_pooled_buffers_never_change_a_result(mode, cpu_calls):
    """Big saved buffers (>= 1 MB) are reused from a pool once autograd releases them:
    two graphs alive at once, a graph kept with retain_graph and backpropagated twice,
    and a graph whose output outlives it must all give the reference loop's gradients."""
    torch.manual_seed(0)
    layer = MODES[mode](8, 160, batch_first=True, layer_norm=True).double()  # (L, N, G) >= 1 MB
    xa, xb = torch.randn(16, 20, 8, dtype=torch.float64), torch.randn(16, 20, 8, dtype=torch.float64)
    ref = [run_seeded(layer, "reference", x) for x in (xa, xb)]

    layer.impl = "rnnkit"
    grads = []
    outs = []
    for x in (xa, xb):  # both graphs alive before either backward
        x = x.clone().requires_grad_()
        out, final = layer(x)
        finals = list(final) if isinstance(final, tuple) else [final]
        outs.append((x, out, (out ** 2).sum() + sum((h * 0.5).sum() for h in finals)))
    for x, out, loss in outs:
        layer.zero_grad()
        loss.backward(retain_graph=True)
        first = [x.grad.clone(), *[p.grad.clone() for p in layer.parameters()]]
        layer.zero_grad()
        x.grad = None
        layer(torch.randn(16, 20, 8, dtype=torch.float64))[0].sum().backward()  # may take free buffers
        layer.zero_grad()
        loss.backward()  # the retained graph's buffers must be untouched
        grads.append((out.detach(), first, [x.grad, *[p.grad for p in layer.parameters()]]))
    assert cpu_calls
    for (out, first, second), r in zip(grads, ref):
        torch.testing.assert_close(out, r[0], atol=1e-10, rtol=1e-10)
        n_final = len(r) - 2 - len(first) + 1
        expected = r[1 + n_final:]
        for a, b, e in zip(first, second, expected):
            torch.testing.assert_close(a, e, atol=1e-9, rtol=1e-9)
            torch.testing.assert_close(b, e, atol=1e-9, rtol=1e-9)


def test_the_pool_lends_a_buffer_again_only_once_it_is_free():
    ext = cpu._build.load()
    L, N, H = 40, 16, 160
    G = 4 * H
    rest = (torch.zeros(N, H), torch.zeros(N, H), torch.randn(G, H) * 0.1, torch.zeros(G), torch.ones(G),
            torch.ones(H), torch.zeros(H), None, None, None, 0, 0.0, True)
    run = lambda: ext.lstm_forward(torch.randn(L, N, G), *rest)  # noqa: E731  (act (L, N, G) = 1.6 MB)
    a = run()
    b = run()
    assert a[2].data_ptr() != b[2].data_ptr()  # a is alive: its buffer is not lent twice
    kept, ptr_b = a[2].clone(), b[2].data_ptr()
    del b
    c = run()
    assert c[2].data_ptr() == ptr_b  # b's buffer was free again and is reused
    assert torch.equal(a[2], kept)  # a's saved tensors untouched
