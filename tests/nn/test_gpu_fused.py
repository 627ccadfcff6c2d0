"""The fused GPU path (Triton kernels, CUDA graphs) against the reference loop: outputs,
final states and every gradient, for LSTM and GRU with each extra, in training and eval,
stacked and bidirectional; and the CUDA-graph streaming step against ``layer.step``.

Runs on a CUDA machine with Triton. Without one it skips, unless Triton's interpreter is
on (``TRITON_INTERPRET=1`` with Triton installed): then the same kernels run on CPU tensors
at tiny sizes (slowly; CUDA graphs are not exercised there).
"""

import itertools
import os

import pytest
import torch

import rnnkit
from rnnkit.nn import reference, sequences

pytest.importorskip("triton")

INTERPRET = os.environ.get("TRITON_INTERPRET") == "1"
if torch.cuda.is_available():
    DEVICE = "cuda"
elif INTERPRET:
    DEVICE = "cpu"
else:
    pytest.skip("the fused GPU path needs CUDA (or TRITON_INTERPRET=1 to run its kernels on CPU)",
                allow_module_level=True)

from rnnkit.nn.gpu import graphs, scan  # noqa: E402  (after the skip: imports Triton kernels)

MODES = {"LSTM": rnnkit.nn.LSTM, "GRU": rnnkit.nn.GRU}
EXTRAS = [dict(layer_norm=ln, recurrent_dropout=rd, zoneout=zo)
          for ln, rd, zo in itertools.product([True, False], [0.0, 0.3], [0.0, 0.25]) if ln or rd or zo]


def make_layer(mode, extras, training, bidirectional=False, size=(3, 5), num_layers=2):
    layer = MODES[mode](*size, num_layers=num_layers, bidirectional=bidirectional,
                        dropout=0.2 if num_layers > 1 else 0.0, **extras)
    with torch.no_grad():  # gains and shifts away from 1 and 0, so their gradients matter
        for name, p in layer.named_parameters():
            if name.startswith("ln_"):
                p.add_(torch.randn_like(p) * 0.3)
    return layer.to(DEVICE).train(training)


def run_seeded(layer, run, x, hx, seed=5):
    """Outputs, final states and gradients of ``run`` (reference.run or scan.run)."""
    torch.manual_seed(seed)  # same masks on both paths
    x = x.clone().requires_grad_()
    batch = sequences.prepare(x, None, False, "test")
    state = tuple(s.clone().requires_grad_() for s in layer._initial_state(hx, batch))
    out, finals = run(layer, batch, state)
    weight = torch.linspace(-1, 1, out.numel(), device=out.device).view_as(out)
    loss = (out * weight).sum() + sum((f * 0.7).sum() for f in finals)
    layer.zero_grad()
    loss.backward()
    return [out, *finals, x.grad, *(s.grad for s in state), *(p.grad for p in layer.parameters())]


def assert_close(got, want, what):
    for i, (g, w) in enumerate(zip(got, want)):
        scale = 1.0 + w.abs().max().item()
        err = (g - w).abs().max().item()
        assert err <= 1e-4 * scale, f"{what}: tensor {i} differs by {err:.2e} (scale {scale:.2f})"


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("extras", EXTRAS, ids=lambda e: "-".join(f"{k}={v}" for k, v in e.items() if v))
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_fused_matches_reference(mode, extras, training):
    torch.manual_seed(0)
    layer = make_layer(mode, extras, training)
    x = torch.randn(6, 3, 3, device=DEVICE)
    h0 = torch.randn(2, 3, 5, device=DEVICE)
    hx = (h0, torch.randn(2, 3, 5, device=DEVICE)) if mode == "LSTM" else h0
    want = run_seeded(layer, reference.run, x, hx)
    got = run_seeded(layer, scan.run, x, hx)
    assert len(got) == len(want)
    assert_close(got, want, f"{mode} {extras} training={training}")


@pytest.mark.parametrize("mode", list(MODES))
def test_fused_bidirectional_and_repeated_calls(mode):
    """Both directions share one shape, so the second needs its own graph slot while the
    first is still held for backward; a second call then reuses the released slots."""
    torch.manual_seed(1)
    layer = make_layer(mode, dict(layer_norm=True, recurrent_dropout=0.3, zoneout=0.25), True,
                       bidirectional=True)
    x = torch.randn(5, 2, 3, device=DEVICE)
    want = run_seeded(layer, reference.run, x, None)
    for _ in range(2):
        assert_close(run_seeded(layer, scan.run, x, None), want, f"{mode} bidirectional")


def test_fused_eval_matches_cpu_reference():
    """Eval mode draws no masks, so the CPU reference loop is the direct yardstick."""
    torch.manual_seed(2)
    layer = make_layer("LSTM", dict(layer_norm=True, zoneout=0.25), False)
    x = torch.randn(7, 2, 3)
    with torch.no_grad():
        want, _ = reference.run(layer.cpu(), sequences.prepare(x, None, False, "t"),
                                layer._initial_state(None, sequences.prepare(x, None, False, "t")))
        layer.to(DEVICE)
        xd = x.to(DEVICE)
        batch = sequences.prepare(xd, None, False, "t")
        got, _ = scan.run(layer, batch, layer._initial_state(None, batch))
    assert_close([got.cpu()], [want], "eval vs CPU reference")


def test_supports_falls_back_for_lengths_and_projection():
    layer = rnnkit.nn.LSTM(3, 5, proj_size=2, layer_norm=True)
    x = torch.randn(4, 2, 3)
    assert not scan.supports(layer, sequences.prepare(x, None, False, "t"))
    layer = rnnkit.nn.GRU(3, 5, layer_norm=True)
    assert not scan.supports(layer, sequences.prepare(x, [4, 2], False, "t"))


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("extras", [dict(layer_norm=True, zoneout=0.25), dict(zoneout=0.3)], ids=["ln-zone", "zone"])
def test_graph_step_matches_layer_step(mode, extras):
    torch.manual_seed(3)
    layer = make_layer(mode, extras, False)
    stepper = graphs.GraphStep(layer, batch=2, capture=DEVICE == "cuda")
    state = None
    for _ in range(6):
        x = torch.randn(2, 3, device=DEVICE)
        with torch.no_grad():
            want, state = layer.step(x, state)
        got = stepper(x)
        assert_close([got], [want], f"{mode} streaming")
    parts = stepper.state if mode == "LSTM" else (stepper.state,)
    assert_close(list(parts), list(state) if mode == "LSTM" else [state], f"{mode} carried state")


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("extras", [dict(layer_norm=True, zoneout=0.25), dict(layer_norm=True),
                                    dict(zoneout=0.3)], ids=["ln-zone", "ln", "zone"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("batch", [1, 2])
def test_fused_step_matches_layer_step(mode, extras, num_layers, batch):
    """The one-kernel-per-layer streaming step (stream.FusedStep) against ``layer.step``;
    H=20 and H_in=3 are not powers of two, so the masked tails are exercised too."""
    from rnnkit.nn.gpu import stream
    torch.manual_seed(4)
    layer = make_layer(mode, extras, False, size=(3, 20), num_layers=num_layers)
    with torch.no_grad():  # biases away from 0, so a missed one shows
        for name, p in layer.named_parameters():
            if name.startswith("bias"):
                p.add_(torch.randn_like(p) * 0.3)
    stepper = stream.FusedStep(layer, batch=batch, capture=DEVICE == "cuda")
    h0 = torch.randn(num_layers, batch, 20, device=DEVICE)
    state = (h0, torch.randn(num_layers, batch, 20, device=DEVICE)) if mode == "LSTM" else h0
    stepper.reset(state)
    for _ in range(5):
        x = torch.randn(batch, 3, device=DEVICE)
        with torch.no_grad():
            want, state = layer.step(x, state)
        got = stepper(x)
        assert_close([got], [want], f"{mode} fused streaming")
    parts = stepper.state if mode == "LSTM" else (stepper.state,)
    assert_close(list(parts), list(state) if mode == "LSTM" else [state], f"{mode} fused carried state")


@pytest.mark.parametrize("mode", list(MODES))
def test_fused_step_without_bias_and_direct_launch(mode):
    """bias=False (the kernel reads zero biases) and capture=False on the device too."""
    from rnnkit.nn.gpu import stream
    torch.manual_seed(6)
    layer = MODES[mode](4, 16, num_layers=1, bias=False, layer_norm=True, zoneout=0.1).to(DEVICE).eval()
    stepper = stream.FusedStep(layer, batch=1, capture=False)
    state = None
    for _ in range(3):
        x = torch.randn(1, 4, device=DEVICE)
        with torch.no_grad():
            want, state = layer.step(x, state)
        assert_close([stepper(x)], [want], f"{mode} fused streaming, no bias")


def _loss_parts(layer, run, x, hx):
    """The loss of ``run_seeded`` and its inputs ``(x, state...)``, graph kept for backward."""
    batch = sequences.prepare(x, None, False, "gradcheck")
    state = layer._initial_state(hx, batch)
    out, finals = run(layer, batch, state)
    weight = torch.linspace(-1, 1, out.numel(), device=out.device, dtype=out.dtype).view_as(out)
    return (out * weight).sum() + sum((f * 0.7).sum() for f in finals)


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("extras", [dict(layer_norm=True, recurrent_dropout=0.3, zoneout=0.25),
                                    dict(recurrent_dropout=0.3, zoneout=0.25)], ids=["ln-rd-zone", "rd-zone"])
def test_fused_bptt_gradcheck_float64(mode, extras, monkeypatch):
    """gradcheck-style check of the hand-written BPTT: its gradients (float32 kernels) in
    random directions against central finite differences of the same loss computed in
    float64 by the reference loop, with the very same masks (zoneout, recurrent dropout,
    dropout between layers); inputs, initial states and every parameter are perturbed."""
    from rnnkit.nn import masks as masks_mod
    torch.manual_seed(7)
    layer = make_layer(mode, extras, True, bidirectional=True)
    x = torch.randn(5, 2, 3, device=DEVICE)
    D, H = 2, 5
    h0 = torch.randn(2 * D, 2, H, device=DEVICE)
    hx = [h0, torch.randn(2 * D, 2, H, device=DEVICE)] if mode == "LSTM" else [h0]
    drawn, draw = [], masks_mod.draw_masks

    def record(*a, **kw):
        drawn.append(draw(*a, **kw))
        return drawn[-1]
    monkeypatch.setattr(masks_mod, "draw_masks", record)  # where stack_layers draws them
    xs = [x.clone().requires_grad_()] + [h.clone().requires_grad_() for h in hx]
    params = list(layer.parameters())
    loss = _loss_parts(layer, scan.run, xs[0], tuple(xs[1:]) if mode == "LSTM" else xs[1])
    grads = torch.autograd.grad(loss, xs + params)  # the fused backward: FusedScan.backward

    per_layer, between = drawn[-1]
    dbl = lambda m: m.double() if isinstance(m, torch.Tensor) else m  # noqa: E731
    masks64 = ([[type(m)(*(dbl(v) for v in m)) for m in dirs] for dirs in per_layer], [dbl(b) for b in between])
    monkeypatch.setattr(reference, "draw_masks", lambda *a, **kw: masks64)
    import copy
    layer64 = copy.deepcopy(layer).double()
    p64 = list(layer64.parameters())
    base = [t.detach().double() for t in xs] + [p.detach().clone() for p in p64]

    def f64(direction, eps):
        with torch.no_grad():
            for p, b0, v in zip(p64, base[len(xs):], direction[len(xs):]):
                p.copy_(b0 + eps * v)
            ins = [b0 + eps * v for b0, v in zip(base[:len(xs)], direction[:len(xs)])]
            return _loss_parts(layer64, reference.run, ins[0],
                               tuple(ins[1:]) if mode == "LSTM" else ins[1]).item()

    gen = torch.Generator().manual_seed(11)
    names = ["x"] + [f"state{i}" for i in range(len(hx))] + [n for n, _ in layer.named_parameters()]
    for k, name in enumerate(names):  # one random direction per tensor: each gradient on its own
        direction = [torch.zeros_like(b0) for b0 in base]
        direction[k] = torch.randn(base[k].shape, generator=gen, dtype=torch.float64).to(base[k].device)
        eps = 1e-6
        numeric = (f64(direction, eps) - f64(direction, -eps)) / (2 * eps)
        g, v = grads[k].double(), direction[k]
        analytic = (g * v).sum().item()
        scale = 1.0 + (g * v).abs().sum().item()
        assert abs(numeric - analytic) <= 2e-5 * scale, (
            f"{mode} {extras} d/d{name}: {analytic:.8f} (BPTT) vs {numeric:.8f} (float64 finite differences)")
