"""GPU check and benchmark of rnnkit's fused layer-norm LSTM/GRU (issue 8, GPU part).

Sections (each guarded: a failure prints its traceback and the run goes on; past
``--budget`` seconds the remaining sections are skipped):

1. environment: GPU, torch, Triton, TF32 settings;
2. parity: the fused path on the GPU against the CPU reference loop (same masks, copied
   from the GPU draw), LSTM and GRU x extras x train/eval, outputs, final states, gradients;
3. training throughput (float32, forward + backward + Adam step, sequences/s): cuDNN
   ``nn.LSTM`` / ``nn.GRU`` against the fused LN-LSTM / LN-GRU at three sizes; median of
   repeats with min and max; the eager rnnkit path (``fast.run``, the GPU dispatch turned
   off) at the first size; labelled experiments, not headlines: at N=256 the older backward
   (``RNNKIT_GPU_BWD_ACC=0``: gain/shift gradients stored per step and reduced by torch
   afterwards) for an A/B of the in-kernel accumulation; at N=256 and H=1024 ``dW_hh``
   accumulated in chunks of 10 steps on a side stream during the backward loop
   (``RNNKIT_GPU_DW_OVERLAP=10``);
4. streaming step at batch 1, hidden 128, state carried: floors (sync, the input copy, a
   one-kernel graph replay), ``nn.LSTM`` per step, ``nn.LSTMCell``, the CUDA-graph step
   (two GEMMs + one kernel per layer), the fused one-kernel-per-layer step (graph and
   direct launch) and rnnkit's eager ``layer.step``; each stepper checked against ``layer.step``;
4b. breakdown: a fused training iteration at N=256 H=512 split into the captured forward
   loop, backward loop and the rest, next to the per-step GEMMs alone, the pointwise step
   kernels alone (L launches captured in one graph) and the ``dW_hh`` GEMM alone;
5. results to ``$OUT/gpu_bench.json`` and ``$OUT/gpu_bench.md``.

Run: ``PYTHONPATH=src python3 benchmarks/gpu/bench_gpu.py`` (or ``bash benchmarks/gpu/run.sh``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import traceback

import torch


def _import_rnnkit():
    """``import rnnkit``; where its task extras (pandas, ...) are missing, load only the
    ``rnnkit.nn`` subpackage, which needs torch alone."""
    try:
        import rnnkit
        return rnnkit
    except ImportError as exc:
        print(f"import rnnkit failed ({exc}); loading rnnkit.nn alone", flush=True)
        import importlib
        import types
        for name in [m for m in sys.modules if m == "rnnkit" or m.startswith("rnnkit.")]:
            del sys.modules[name]
        spec = importlib.util.find_spec("rnnkit")
        pkg = types.ModuleType("rnnkit")
        pkg.__path__ = list(spec.submodule_search_locations)
        sys.modules["rnnkit"] = pkg
        pkg.nn = importlib.import_module("rnnkit.nn")
        return pkg


rnnkit = _import_rnnkit()
from rnnkit.nn import reference, sequences  # noqa: E402

START = time.perf_counter()
# BENCH_DEVICE=cpu with TRITON_INTERPRET=1 and BENCH_TINY=1 is a dry run of this script on CPU
DEV = os.environ.get("BENCH_DEVICE", "cuda")
RESULTS: dict = {"sections": {}, "errors": {}}
SIZES = [  # (batch, length, input, hidden)
    (64, 100, 32, 256),
    (256, 100, 128, 512),
    (32, 400, 512, 1024),
]
if os.environ.get("BENCH_TINY"):
    SIZES = [(2, 3, 3, 4), (2, 2, 3, 8)]


def sync() -> None:
    if DEV == "cuda":
        torch.cuda.synchronize()


def log(*args) -> None:
    print(f"[{time.perf_counter() - START:6.1f}s]", *args, flush=True)


def section(name: str, budget: float):
    """Decorator: run the section unless over budget; catch and record any failure."""
    def wrap(fn):
        def run(*a, **kw):
            if time.perf_counter() - START > budget:
                log(f"SKIP {name}: over the {budget:.0f} s budget")
                RESULTS["errors"][name] = "skipped: over budget"
                return None
            log(f"== {name}")
            try:
                return fn(*a, **kw)
            except Exception:  # one section failing must not stop the others
                tb = traceback.format_exc()
                print(tb, flush=True)
                RESULTS["errors"][name] = tb
                return None
        return run
    return wrap


# ---- 1. environment --------------------------------------------------------------------------
def environment() -> None:
    import triton
    info = {"gpu": torch.cuda.get_device_name(0) if DEV == "cuda" else DEV, "torch": torch.__version__,
            "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version(),
            "triton": triton.__version__,
            "cudnn.allow_tf32": torch.backends.cudnn.allow_tf32,
            "matmul.allow_tf32": torch.backends.cuda.matmul.allow_tf32}
    for k, v in info.items():
        log(f"{k}: {v}")
    RESULTS["sections"]["environment"] = info


# ---- 2. parity ---------------------------------------------------------------------------------
def _fused_run(layer, x, hx):
    from rnnkit.nn.gpu import scan
    batch = sequences.prepare(x, None, layer.batch_first, "bench")
    return scan.run(layer, batch, layer._initial_state(hx, batch))


def _grads(layer, run, x, hx):
    x = x.clone().requires_grad_()
    batch = sequences.prepare(x, None, False, "parity")
    state = tuple(s.clone().requires_grad_() for s in layer._initial_state(hx, batch))
    out, finals = run(layer, batch, state)
    weight = torch.linspace(-1, 1, out.numel(), device=out.device).view_as(out)
    loss = (out * weight).sum() + sum((f * 0.7).sum() for f in finals)
    layer.zero_grad()
    loss.backward()
    return [out, *finals, x.grad, *(s.grad for s in state), *(p.grad for p in layer.parameters())]


def _parity_case(mode, extras, training, L=12, N=4, H_in=6, H=32, layers=2, bidir=True):
    from rnnkit.nn import masks as masks_mod
    from rnnkit.nn.gpu import scan
    cls = rnnkit.nn.LSTM if mode == "LSTM" else rnnkit.nn.GRU
    torch.manual_seed(0)
    drop = 0.2 if layers > 1 else 0.0
    cpu = cls(H_in, H, num_layers=layers, bidirectional=bidir, dropout=drop, **extras)
    with torch.no_grad():
        for name, p in cpu.named_parameters():
            if name.startswith("ln_"):
                p.add_(torch.randn_like(p) * 0.3)
    gpu = cls(H_in, H, num_layers=layers, bidirectional=bidir, dropout=drop, **extras).to(DEV)
    gpu.load_state_dict(cpu.state_dict())
    cpu.train(training), gpu.train(training)
    x = torch.randn(L, N, H_in)
    D = 2 if bidir else 1
    hx = torch.randn(layers * D, N, H)
    hx = (hx, torch.randn(layers * D, N, H)) if mode == "LSTM" else hx
    hx_gpu = tuple(h.to(DEV) for h in hx) if mode == "LSTM" else hx.to(DEV)
    drawn = []
    real_draw = masks_mod.draw_masks

    def record(*a, **kw):  # the fused path draws on the GPU; the CPU reference reuses them
        res = real_draw(*a, **kw)
        drawn.append(res)
        return res

    def replay(*a, **kw):
        per_layer, between = drawn[-1]
        mv = lambda m: m.cpu() if isinstance(m, torch.Tensor) else m  # noqa: E731
        return ([[type(m)(*(mv(v) for v in m)) for m in dirs] for dirs in per_layer],
                [mv(b) for b in between])

    masks_mod.draw_masks, reference.draw_masks = record, replay  # stack_layers draws via masks_mod
    try:
        got = _grads(gpu, scan.run, x.to(DEV), hx_gpu)
        want = _grads(cpu, reference.run, x, hx)
    finally:
        masks_mod.draw_masks = reference.draw_masks = real_draw
    err = 0.0
    for g, w in zip(got, want):
        err = max(err, (g.cpu() - w).abs().max().item() / (1.0 + w.abs().max().item()))
    return err


def parity() -> None:
    rows, ok = [], True
    extras_list = [dict(layer_norm=True), dict(recurrent_dropout=0.3), dict(zoneout=0.25),
                   dict(layer_norm=True, recurrent_dropout=0.3, zoneout=0.25)]
    for mode in ("LSTM", "GRU"):
        for extras in extras_list:
            for training in (True, False):
                name = f"{mode} {'+'.join(extras)} {'train' if training else 'eval'}"
                err = _parity_case(mode, extras, training)
                passed = err < 1e-4
                ok &= passed
                rows.append({"case": name, "max_rel_err": err, "pass": passed})
                log(f"parity {name:45s} max rel err {err:.2e} {'PASS' if passed else 'FAIL'}")
    err = _parity_case("LSTM", dict(layer_norm=True, recurrent_dropout=0.3, zoneout=0.25), True,
                       L=20, N=8, H_in=32, H=1024, layers=1, bidir=False)
    rows.append({"case": "LSTM all extras train H=1024", "max_rel_err": err, "pass": err < 1e-4})
    ok &= err < 1e-4
    log(f"parity LSTM all extras train H=1024 max rel err {err:.2e} {'PASS' if err < 1e-4 else 'FAIL'}")
    log("PARITY", "PASS" if ok else "FAIL")
    from rnnkit.nn.gpu import graphs
    graphs.clear()  # free the parity shapes' graphs before timing
    RESULTS["sections"]["parity"] = {"all_pass": ok, "cases": rows}


# ---- 3. training throughput ----------------------------------------------------------------------
class _gpu_path_off:
    """Within: ``rnnkit.nn.gpu.supports`` says no, so layers take ``fast.run`` (eager)."""

    def __enter__(self):
        import rnnkit.nn.gpu as gpu_mod
        self.mod, self.real = gpu_mod, gpu_mod.supports
        gpu_mod.supports = lambda *a, **k: False

    def __exit__(self, *exc):
        self.mod.supports = self.real


def _train_step_fn(kind, mode, size, extras=None, tf32=False):
    N, L, H_in, H = size
    x = torch.randn(L, N, H_in, device=DEV)
    if kind == "cudnn":
        layer = (torch.nn.LSTM if mode == "LSTM" else torch.nn.GRU)(H_in, H).to(DEV)
        forward = lambda: layer(x)[0]  # noqa: E731
    else:
        cls = rnnkit.nn.LSTM if mode == "LSTM" else rnnkit.nn.GRU
        layer = cls(H_in, H, **extras).to(DEV)
        layer.validate_inputs = False
        if kind == "fused":
            forward = lambda: _fused_run(layer, x, None)[0]  # noqa: E731
        else:  # the eager fast path (rnnkit.nn.fast.run), with the fused GPU dispatch off
            layer.impl = "rnnkit"

            def forward():
                with _gpu_path_off():
                    return layer(x)[0]
    opt = torch.optim.Adam(layer.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = forward().pow(2).mean()
        loss.backward()
        opt.step()
    return step


def _throughput(step, N, repeats=5, target_s=0.25, max_iters=50):
    """sequences/s: warm up, then ``repeats`` timed runs of k iterations each."""
    for _ in range(3):
        step()
    sync()
    t0 = time.perf_counter()
    step()
    sync()
    k = max(1, min(max_iters, int(target_s / max(time.perf_counter() - t0, 1e-6))))
    rates = []
    for _ in range(repeats):
        sync()
        t0 = time.perf_counter()
        for _ in range(k):
            step()
        sync()
        rates.append(N * k / (time.perf_counter() - t0))
    return {"median": statistics.median(rates), "min": min(rates), "max": max(rates), "iters": k}


EXPERIMENTS = {  # label suffix -> environment of the fused path (read when loops are captured)
    "oldbwd": ("[experiment: old backward, per-step stores + torch reductions]", {"RNNKIT_GPU_BWD_ACC": "0"}),
    "dw10": ("[experiment: dW_hh overlapped, side stream, chunks of 10 steps]", {"RNNKIT_GPU_DW_OVERLAP": "10"}),
}


def _set_env(env: dict, on: bool) -> None:
    """Set (or unset) an experiment's variables; drops captured graphs either way."""
    from rnnkit.nn.gpu import graphs
    for k, v in env.items():
        if on:
            os.environ[k] = v
        else:
            os.environ.pop(k, None)
    graphs.clear()


def training(budget: float, checkpoint=lambda: None) -> None:
    rows = []
    RESULTS["sections"]["training"] = rows  # filled as it goes
    ln_only = dict(layer_norm=True)
    all_extras = dict(layer_norm=True, recurrent_dropout=0.25, zoneout=0.1)
    jobs, later, bases = [], [], {}
    for si, size in enumerate(SIZES):
        for mode in ("LSTM", "GRU"):
            configs = [("cudnn", "cuDNN nn." + mode, None, False)]
            if si < 2:  # dropped at the largest size to keep the run short
                configs.append(("cudnn", "cuDNN nn." + mode + " (no TF32)", None, "cudnn_off"))
            configs += [("fused", f"fused LN-{mode}", ln_only, False),
                        ("fused", f"fused LN-{mode} + rec.dropout + zoneout", all_extras, False),
                        ("fused", f"fused LN-{mode} (TF32 matmul)", ln_only, "matmul_on")]
            if si == 1:  # A/B of the in-kernel gain/shift accumulation
                configs.append(("fused", f"fused LN-{mode} {EXPERIMENTS['oldbwd'][0]}", ln_only, "oldbwd"))
            if si == 0:
                configs.append(("eager", f"eager rnnkit LN-{mode} (fast.run, GPU path off)", ln_only, False))
            jobs.append((size, mode, configs))
            if si >= 1:  # multi-stream capture: run after every headline row, so a failure costs only these
                later.append((size, mode, [("fused", f"fused LN-{mode} {EXPERIMENTS['dw10'][0]}", ln_only, "dw10")]))
    for size, mode, configs in jobs + later:
        for kind, label, extras, tf32 in configs:
            if time.perf_counter() - START > budget:
                log(f"SKIP {label} {size}: over budget")
                continue
            try:
                cudnn_tf32 = torch.backends.cudnn.allow_tf32
                mm_tf32 = torch.backends.cuda.matmul.allow_tf32
                torch.backends.cudnn.allow_tf32 = cudnn_tf32 and tf32 != "cudnn_off"
                torch.backends.cuda.matmul.allow_tf32 = mm_tf32 or tf32 == "matmul_on"
                if tf32 in EXPERIMENTS:
                    _set_env(EXPERIMENTS[tf32][1], True)
                try:
                    step = _train_step_fn(kind, mode, size, extras)
                    r = _throughput(step, size[0], repeats=3 if kind == "eager" else 5,
                                    target_s=0.1 if kind == "eager" else 0.25)
                finally:
                    torch.backends.cudnn.allow_tf32 = cudnn_tf32
                    torch.backends.cuda.matmul.allow_tf32 = mm_tf32
                    if tf32 in EXPERIMENTS:
                        _set_env(EXPERIMENTS[tf32][1], False)
                if label == "cuDNN nn." + mode:
                    bases[(size, mode)] = r["median"]
                base = bases.get((size, mode))
                r["ratio_to_cudnn"] = r["median"] / base if base else None
                row = {"size": "N=%d L=%d in=%d H=%d" % size, "mode": mode, "impl": label, **r}
                rows.append(row)
                log(f"train {row['size']:24s} {label:45s} {r['median']:10.1f} seq/s "
                    f"[{r['min']:.1f}, {r['max']:.1f}] x{r['ratio_to_cudnn'] or 0:.3f} of cuDNN")
            except Exception:
                tb = traceback.format_exc()
                print(tb, flush=True)
                RESULTS["errors"][f"train {label} {size}"] = tb
            if DEV == "cuda":
                torch.cuda.empty_cache()
            checkpoint()
    RESULTS["sections"]["training"] = rows


# ---- 4. streaming ------------------------------------------------------------------------------
def _latency(fn, steps=2000, warmup=50):
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    sync()
    pipelined = (time.perf_counter() - t0) / steps
    return {"median_us": statistics.median(times) * 1e6, "p90_us": sorted(times)[int(0.9 * steps)] * 1e6,
            "pipelined_us": pipelined * 1e6}


def _check_step(stepper, layer, x, n=5):
    """Max abs difference of ``stepper`` against ``layer.step`` over ``n`` steps from zeros."""
    ref_state, err = None, 0.0
    with torch.no_grad():
        for _ in range(n):
            y_ref, ref_state = layer.step(x, ref_state)
            err = max(err, (stepper(x) - y_ref).abs().max().item())
    stepper.reset()
    return err


def streaming(steps: int) -> None:
    from rnnkit.nn.gpu import graphs
    H_in, H = 32, 128
    x = torch.randn(1, H_in, device=DEV)
    rows, checks = [], []
    RESULTS["sections"]["streaming"] = rows
    RESULTS["sections"]["streaming_checks"] = checks
    cases = []

    def add(label, build):
        """Build one case; a failure (e.g. a kernel that does not compile) is logged and skipped."""
        try:
            cases.append((label, build()))
        except Exception:
            tb = traceback.format_exc()
            print(tb, flush=True)
            RESULTS["errors"][f"stream {label}"] = tb

    with torch.no_grad():
        # floors: what a step costs before any model work (sync; the input copy; a graph replay)
        buf = torch.zeros(1, H_in, device=DEV)
        add("floor: synchronize only", lambda: (lambda: None))
        add("floor: x copy_ into a fixed buffer", lambda: (lambda: buf.copy_(x)))
        if DEV == "cuda":
            def one_node_graph():
                g = graphs._capture(lambda: buf.mul_(1.0))[0]
                return lambda: (buf.copy_(x), g.replay())
            add("floor: x copy_ + replay of a 1-kernel graph", one_node_graph)
        lstm = torch.nn.LSTM(H_in, H).to(DEV).eval()
        state = [(torch.zeros(1, 1, H, device=DEV), torch.zeros(1, 1, H, device=DEV))]

        def torch_lstm():
            _, state[0] = lstm(x.unsqueeze(0), state[0])
        cell = torch.nn.LSTMCell(H_in, H).to(DEV).eval()
        cstate = [(torch.zeros(1, H, device=DEV), torch.zeros(1, H, device=DEV))]

        def torch_cell():
            cstate[0] = cell(x, cstate[0])
        add("nn.LSTM per step (cuDNN), plain", lambda: torch_lstm)
        add("nn.LSTMCell, plain", lambda: torch_cell)
    for mode, layers in (("LSTM", 1), ("GRU", 1), ("LSTM", 2)):
        cls = rnnkit.nn.LSTM if mode == "LSTM" else rnnkit.nn.GRU
        layer = cls(H_in, H, num_layers=layers, layer_norm=True, zoneout=0.1).to(DEV).eval()
        layer.validate_inputs = False
        name = f"rnnkit LN-{mode}+zoneout" + (f" {layers} layers" if layers > 1 else "")

        def checked(kind, make, layer=layer, mode=mode, name=name):
            def build():
                stepper = make()
                err = _check_step(stepper, layer, x)
                ok = err < 1e-5
                checks.append({"case": f"{name} {kind}", "max_abs_err": err, "pass": ok})
                log(f"streaming {name} {kind} vs layer.step max err {err:.2e} {'PASS' if ok else 'FAIL'}")
                if not ok:
                    raise RuntimeError(f"{name} {kind}: differs from layer.step by {err:.2e}")
                return lambda s=stepper: s(x)
            add(f"{name} {kind}", build)

        cap = DEV == "cuda"
        if layers == 1:  # the older stepper: two GEMMs + one kernel per layer in the graph
            checked("CUDA-graph step (2 GEMMs + 1 kernel)", lambda layer=layer: graphs.GraphStep(layer, 1, capture=cap))
        from rnnkit.nn.gpu import stream
        checked("fused 1-kernel step, CUDA graph", lambda layer=layer: stream.FusedStep(layer, 1, capture=cap))
        checked("fused 1-kernel step, direct launch", lambda layer=layer: stream.FusedStep(layer, 1, capture=False))
        if layers == 1:
            rstate = [None]

            def eager(layer=layer, rstate=rstate):
                with torch.no_grad():
                    _, rstate[0] = layer.step(x, rstate[0])
            add(f"{name} eager layer.step", lambda eager=eager: eager)
    for label, fn in cases:
        try:
            with torch.no_grad():  # inference: no autograd bookkeeping for any case
                r = _latency(fn, steps=steps)
        except Exception:
            tb = traceback.format_exc()
            print(tb, flush=True)
            RESULTS["errors"][f"stream {label}"] = tb
            continue
        rows.append({"impl": label, **r})
        log(f"stream {label:55s} median {r['median_us']:7.1f} us  p90 {r['p90_us']:7.1f} us  "
            f"pipelined {r['pipelined_us']:7.1f} us")


# ---- 4b. where the time of one training step goes (fused, N=256 H=512) -----------------------
class _Timer:
    """Intervals on the current stream: CUDA events on the GPU, perf_counter on CPU."""

    def __init__(self):
        self.pairs = []

    def start(self):
        if DEV == "cuda":
            e = torch.cuda.Event(enable_timing=True)
            e.record()
            return e
        return time.perf_counter()

    def stop(self, t0):
        if DEV == "cuda":
            e = torch.cuda.Event(enable_timing=True)
            e.record()
            self.pairs.append((t0, e))
        else:
            self.pairs.append((t0, time.perf_counter()))

    def total_ms(self):
        sync()
        if DEV == "cuda":
            return sum(a.elapsed_time(b) for a, b in self.pairs)
        return sum(b - a for a, b in self.pairs) * 1e3


def _parts_alone(mode, size) -> dict:
    """ms of: the L forward / backward pointwise step kernels alone (captured in one graph on
    the GPU, as in the scan), and the ``dW_hh`` GEMM over all L*N rows alone; None on failure."""
    from rnnkit.nn.gpu import graphs, gru, kernels as K, lstm
    from rnnkit.nn.gpu.spec import ScanSpec
    N, L, _, H = size
    out = {}
    try:
        mod = lstm if mode == "LSTM" else gru
        spec = ScanSpec(mode, L, N, H, True, 0, 0.0, False, True, torch.device(DEV))
        b = mod.allocate(spec)
        for k, v in b.items():
            if isinstance(v, torch.Tensor) and v.numel() > 1:
                v.normal_()
        for k in ("rstd", "crstd"):
            if k in b:
                b[k].abs_().add_(0.5)
        block, warps = K.block_and_warps(H)
        G = b["w_hh"].shape[0]
        parts = {
            "fwd_kernels": lambda: [mod.fwd_kernel(spec, b, t, block, warps) for t in range(L)],
            "bwd_kernels": lambda: [mod.bwd_kernel(spec, b, t, block, warps) for t in range(L)],
            "dw": lambda: torch.mm(b["da"].view(L * N, G).t(), b["hs"][:L].reshape(L * N, H), out=b["w_hh"]),
        }
        for name, fn in parts.items():
            try:
                run = graphs._capture(fn)[0].replay if DEV == "cuda" else fn
                run()
                tm = _Timer()
                for _ in range(3):
                    t = tm.start()
                    run()
                    tm.stop(t)
                out[name] = tm.total_ms() / 3
            except Exception:
                tb = traceback.format_exc()
                print(tb, flush=True)
                RESULTS["errors"][f"breakdown {mode} {name} alone"] = tb
        b = None  # free the buffers
    except Exception:
        tb = traceback.format_exc()
        print(tb, flush=True)
        RESULTS["errors"][f"breakdown {mode} parts alone"] = tb
    return out


def breakdown(size=None, iters=10) -> None:
    """Per training iteration: the captured forward loop, the captured backward loop, the
    rest; and the per-step recurrent GEMMs alone (forward ``h W_hh^T``, backward ``da W_hh``)."""
    from rnnkit.nn.gpu import graphs
    size = size or SIZES[min(1, len(SIZES) - 1)]
    N, L, H_in, H = size
    rows = []
    RESULTS["sections"]["breakdown"] = rows
    for mode in ("LSTM", "GRU"):
        G = (4 if mode == "LSTM" else 3) * H
        step = _train_step_fn("fused", mode, size, dict(layer_norm=True))
        for _ in range(3):
            step()
        fwd_t, bwd_t = _Timer(), _Timer()
        real_f, real_b = graphs.Slot.run_forward, graphs.Slot.run_backward

        def run_f(self, real_f=real_f, fwd_t=fwd_t):
            t0 = fwd_t.start()
            real_f(self)
            fwd_t.stop(t0)

        def run_b(self, real_b=real_b, bwd_t=bwd_t):
            t0 = bwd_t.start()
            out = real_b(self)
            bwd_t.stop(t0)
            return out
        graphs.Slot.run_forward, graphs.Slot.run_backward = run_f, run_b
        try:
            sync()
            t0 = time.perf_counter()
            for _ in range(iters):
                step()
            sync()
            total = (time.perf_counter() - t0) * 1e3 / iters
        finally:
            graphs.Slot.run_forward, graphs.Slot.run_backward = real_f, real_b
        fwd, bwd = fwd_t.total_ms() / iters, bwd_t.total_ms() / iters
        # the per-step GEMMs alone, L of each, back to back
        h = torch.randn(N, H, device=DEV)
        w = torch.randn(G, H, device=DEV)
        a = torch.empty(N, G, device=DEV)
        da = torch.randn(N, G, device=DEV)
        dh = torch.empty(N, H, device=DEV)
        gemm = {}
        for name, fn in (("fwd", lambda: torch.mm(h, w.t(), out=a)), ("bwd", lambda: torch.mm(da, w, out=dh))):
            for _ in range(5):
                fn()
            tm = _Timer()
            t = tm.start()
            for _ in range(L):
                fn()
            tm.stop(t)
            gemm[name] = tm.total_ms()
        gemm.update(_parts_alone(mode, size))
        row = {"size": "N=%d L=%d in=%d H=%d" % size, "mode": mode, "iteration_ms": total,
               "fwd_loop_ms": fwd, "bwd_loop_ms": bwd, "rest_ms": total - fwd - bwd,
               "fwd_gemms_alone_ms": gemm["fwd"], "bwd_gemms_alone_ms": gemm["bwd"],
               "fwd_kernels_est_ms": fwd - gemm["fwd"], "bwd_kernels_est_ms": bwd - gemm["bwd"],
               "fwd_kernels_alone_ms": gemm.get("fwd_kernels"), "bwd_kernels_alone_ms": gemm.get("bwd_kernels"),
               "dw_gemm_alone_ms": gemm.get("dw")}
        rows.append(row)
        log("breakdown " + " ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
        log(f"breakdown {mode}: bwd loop = L bwd GEMMs + L bwd step kernels + dW GEMM + rest of the tail: "
            f"{bwd:.3f} vs {gemm['bwd']:.3f} + {gemm.get('bwd_kernels') or 0:.3f} + {gemm.get('dw') or 0:.3f}")
        graphs.clear()
        if DEV == "cuda":
            torch.cuda.empty_cache()


# ---- 5. write ------------------------------------------------------------------------------------
def write(out_dir: str, final: bool = True) -> None:
    os.makedirs(out_dir, exist_ok=True)
    RESULTS["elapsed_s"] = time.perf_counter() - START
    with open(os.path.join(out_dir, "gpu_bench.json"), "w") as f:
        json.dump(RESULTS, f, indent=2, default=str)
    md = ["# rnnkit GPU benchmark", ""]
    env = RESULTS["sections"].get("environment", {})
    md += [f"- {k}: {v}" for k, v in env.items()] + [""]
    par = RESULTS["sections"].get("parity")
    if par:
        md += ["## Parity (fused on GPU vs CPU reference loop)", "", "| case | max rel err | |",
               "|---|---|---|"]
        md += [f"| {r['case']} | {r['max_rel_err']:.2e} | {'PASS' if r['pass'] else 'FAIL'} |"
               for r in par["cases"]] + [""]
    rows = RESULTS["sections"].get("training")
    if rows:
        md += ["## Training throughput (float32, fwd + bwd + Adam), sequences/s", "",
               "| size | impl | median | min | max | × cuDNN |", "|---|---|---|---|---|---|"]
        md += [f"| {r['size']} | {r['impl']} | {r['median']:.1f} | {r['min']:.1f} | {r['max']:.1f} | "
               f"{(r['ratio_to_cudnn'] or 0):.3f} |" for r in rows] + [""]
    rows = RESULTS["sections"].get("streaming")
    if rows:
        md += ["## Streaming step, batch 1, hidden 128 (µs per step)", "",
               "| impl | median (sync each step) | p90 | pipelined |", "|---|---|---|---|"]
        md += [f"| {r['impl']} | {r['median_us']:.1f} | {r['p90_us']:.1f} | {r['pipelined_us']:.1f} |"
               for r in rows] + [""]
    rows = RESULTS["sections"].get("streaming_checks")
    if rows:
        md += ["Streaming steppers against `layer.step` (5 steps, max abs err): "
               + "; ".join(f"{r['case']} {r['max_abs_err']:.1e} {'PASS' if r['pass'] else 'FAIL'}" for r in rows), ""]
    rows = RESULTS["sections"].get("breakdown")
    if rows:
        md += ["## Where a fused training iteration goes (ms per iteration, LN only)", "",
               "| size | mode | iteration | fwd loop (graph) | bwd loop (graph) | rest | "
               "L fwd GEMMs alone | L bwd GEMMs alone | fwd kernels (est.) | bwd kernels (est.) | "
               "L fwd step kernels alone | L bwd step kernels alone | dW_hh GEMM alone |",
               "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
        f3 = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
        md += [f"| {r['size']} | {r['mode']} | {r['iteration_ms']:.3f} | {r['fwd_loop_ms']:.3f} | "
               f"{r['bwd_loop_ms']:.3f} | {r['rest_ms']:.3f} | {r['fwd_gemms_alone_ms']:.3f} | "
               f"{r['bwd_gemms_alone_ms']:.3f} | {r['fwd_kernels_est_ms']:.3f} | {r['bwd_kernels_est_ms']:.3f} | "
               f"{f3(r.get('fwd_kernels_alone_ms'))} | {f3(r.get('bwd_kernels_alone_ms'))} | {f3(r.get('dw_gemm_alone_ms'))} |"
               for r in rows]
        md += ["", "The kernel estimates are loop minus GEMMs; the backward loop's graph also holds the "
               "dW_hh GEMM over all L*N rows and the final reductions, so 'bwd kernels (est.)' includes "
               "them; the 'alone' columns time each part by itself (step kernels: L launches in one graph).", ""]
    if RESULTS["errors"]:
        md += ["## Errors", ""] + [f"- {k}" for k in RESULTS["errors"]] + [""]
    with open(os.path.join(out_dir, "gpu_bench.md"), "w") as f:
        f.write("\n".join(md))
    if final:
        log(f"wrote {out_dir}/gpu_bench.json and gpu_bench.md")
        print("\n".join(md), flush=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=300.0, help="skip sections started after this many s")
    ap.add_argument("--steps", type=int, default=2000, help="streaming steps per case")
    ap.add_argument("--out", default=os.environ.get("OUT") or "benchmarks/out/gpu")
    args = ap.parse_args()
    if DEV == "cuda" and not torch.cuda.is_available():
        log("no CUDA device: nothing to benchmark")
        return 0
    section("environment", args.budget)(environment)()
    section("parity", args.budget)(parity)()
    write(args.out, final=False)  # partial results survive a hard timeout
    section("streaming", args.budget)(streaming)(args.steps)
    write(args.out, final=False)
    section("training", args.budget)(training)(args.budget, lambda: write(args.out, final=False))
    write(args.out, final=False)
    section("breakdown", args.budget)(breakdown)()
    write(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
