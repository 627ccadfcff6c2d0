"""GPU check and benchmark of rnnkit's fused layer-norm LSTM/GRU (issue 8, GPU part).

Sections (each guarded: a failure prints its traceback and the run goes on; past
``--budget`` seconds the remaining sections are skipped):

1. environment: GPU, torch, Triton, TF32 settings;
2. parity: the fused path on the GPU against the CPU reference loop (same masks, copied
   from the GPU draw), LSTM and GRU x extras x train/eval, outputs, final states, gradients;
3. training throughput (float32, forward + backward + Adam step, sequences/s): cuDNN
   ``nn.LSTM`` / ``nn.GRU`` against the fused LN-LSTM / LN-GRU at three sizes; median of
   repeats with min and max; an eager rnnkit layer (impl="rnnkit") at the first size;
4. streaming step at batch 1, hidden 128, state carried: CUDA-graph step against
   ``nn.LSTM`` per step, ``nn.LSTMCell`` and rnnkit's eager ``layer.step``;
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

    scan.draw_masks, reference.draw_masks = record, replay
    try:
        got = _grads(gpu, scan.run, x.to(DEV), hx_gpu)
        want = _grads(cpu, reference.run, x, hx)
    finally:
        scan.draw_masks = reference.draw_masks = real_draw
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
        else:
            layer.impl = "rnnkit"
            forward = lambda: layer(x)[0]  # noqa: E731
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


def training(budget: float, checkpoint=lambda: None) -> None:
    rows = []
    RESULTS["sections"]["training"] = rows  # filled as it goes
    ln_only = dict(layer_norm=True)
    all_extras = dict(layer_norm=True, recurrent_dropout=0.25, zoneout=0.1)
    for si, size in enumerate(SIZES):
        for mode in ("LSTM", "GRU"):
            configs = [("cudnn", "cuDNN nn." + mode, None, False),
                       ("cudnn", "cuDNN nn." + mode + " (no TF32)", None, "cudnn_off"),
                       ("fused", f"fused LN-{mode}", ln_only, False),
                       ("fused", f"fused LN-{mode} + rec.dropout + zoneout", all_extras, False),
                       ("fused", f"fused LN-{mode} (TF32 matmul)", ln_only, "matmul_on")]
            if si == 0:
                configs.append(("eager", f"eager rnnkit LN-{mode} (impl='rnnkit')", ln_only, False))
            base = None
            for kind, label, extras, tf32 in configs:
                if time.perf_counter() - START > budget:
                    log(f"SKIP {label} {size}: over budget")
                    continue
                try:
                    cudnn_tf32 = torch.backends.cudnn.allow_tf32
                    mm_tf32 = torch.backends.cuda.matmul.allow_tf32
                    torch.backends.cudnn.allow_tf32 = cudnn_tf32 and tf32 != "cudnn_off"
                    torch.backends.cuda.matmul.allow_tf32 = mm_tf32 or tf32 == "matmul_on"
                    try:
                        step = _train_step_fn(kind, mode, size, extras)
                        r = _throughput(step, size[0], repeats=3 if kind == "eager" else 5,
                                        target_s=0.1 if kind == "eager" else 0.25)
                    finally:
                        torch.backends.cudnn.allow_tf32 = cudnn_tf32
                        torch.backends.cuda.matmul.allow_tf32 = mm_tf32
                    if label == "cuDNN nn." + mode:
                        base = r["median"]
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


def streaming(steps: int) -> None:
    from rnnkit.nn.gpu import graphs
    H_in, H = 32, 128
    x = torch.randn(1, H_in, device=DEV)
    rows = []
    with torch.no_grad():
        lstm = torch.nn.LSTM(H_in, H).to(DEV).eval()
        state = [(torch.zeros(1, 1, H, device=DEV), torch.zeros(1, 1, H, device=DEV))]

        def torch_lstm():
            _, state[0] = lstm(x.unsqueeze(0), state[0])
        cell = torch.nn.LSTMCell(H_in, H).to(DEV).eval()
        cstate = [(torch.zeros(1, H, device=DEV), torch.zeros(1, H, device=DEV))]

        def torch_cell():
            cstate[0] = cell(x, cstate[0])
        cases = [("nn.LSTM per step (cuDNN), plain", torch_lstm), ("nn.LSTMCell, plain", torch_cell)]
        for mode in ("LSTM", "GRU"):
            cls = rnnkit.nn.LSTM if mode == "LSTM" else rnnkit.nn.GRU
            layer = cls(H_in, H, layer_norm=True, zoneout=0.1).to(DEV).eval()
            layer.validate_inputs = False
            stepper = graphs.GraphStep(layer, batch=1, capture=DEV == "cuda")
            rstate = [None]

            def eager(layer=layer, rstate=rstate):
                _, rstate[0] = layer.step(x, rstate[0])
            # check the graph step against the eager step before timing it
            ref_state, err = None, 0.0
            for _ in range(5):
                y_ref, ref_state = layer.step(x, ref_state)
                err = max(err, (stepper(x) - y_ref).abs().max().item())
            log(f"streaming {mode} graph step vs layer.step max err {err:.2e} {'PASS' if err < 1e-5 else 'FAIL'}")
            cases += [(f"rnnkit LN-{mode}+zoneout CUDA-graph step", lambda s=stepper: s(x)),
                      (f"rnnkit LN-{mode}+zoneout eager layer.step", eager)]
        for label, fn in cases:
            r = _latency(fn, steps=steps)
            rows.append({"impl": label, **r})
            log(f"stream {label:45s} median {r['median_us']:7.1f} us  p90 {r['p90_us']:7.1f} us  "
                f"pipelined {r['pipelined_us']:7.1f} us")
    RESULTS["sections"]["streaming"] = rows


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
    write(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
