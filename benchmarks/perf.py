"""CPU performance of rnnkit's recurrent layers, side by side with torch and onnxruntime.

One command, one run, every figure measured on the same machine in the same process:

    OMP_WAIT_POLICY=PASSIVE python benchmarks/perf.py            # the full table (~5-10 min)
    OMP_WAIT_POLICY=PASSIVE python benchmarks/perf.py --quick    # hidden 256, one layer (~1 min)

Sections (see docs/performance.md for the results and how to read them):

* ``train``: training throughput, sequences/s of forward + backward + Adam step, batch 64,
  length 100, input 32, hidden 128/256, one/two layers, LSTM and GRU: torch.nn fused,
  rnnkit without extras, with layer_norm, recurrent_dropout, zoneout, all three, and a
  plain eager cell loop (torch.nn.LSTMCell/GRUCell in a Python loop).
* ``sequence``: inference on whole sequences (batch 64, length 100, hidden 256):
  rnnkit, torch.nn and onnxruntime (``rnnkit.export.to_onnx``), sequences/s.
* ``stream``: one step at a time at batch 1, hidden 128, state carried: rnnkit's
  ``Stepper``, ``layer.step``, torch nn.LSTM/GRU per step, nn.LSTMCell/GRUCell per step and
  onnxruntime on the step graph, microseconds per step.
* ``floor``: the arithmetic floor of each figure, FLOPs over the measured matrix-multiply
  rate of this machine, and how far each figure is from it.

Every row is timed round-robin with the others of its group (so background load hits
all of them alike): a warm-up, then ``--repeats`` (>= 5) timed repeats; the table shows
the median with min and max, and ratios to the group's baseline. ``--json`` names the
output file (default ``benchmarks/perf/cpu_perf.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
import rnnkit  # noqa: E402
import rnnkit.export  # noqa: E402

BATCH, LENGTH, INPUT = 64, 100, 32
STREAM_HIDDEN = 128
GATES = {"LSTM": 4, "GRU": 3}
TORCH = {"LSTM": nn.LSTM, "GRU": nn.GRU}
TORCH_CELL = {"LSTM": nn.LSTMCell, "GRU": nn.GRUCell}
RNNKIT = {"LSTM": rnnkit.nn.LSTM, "GRU": rnnkit.nn.GRU}
EXTRAS = {
    "rnnkit": {},
    "rnnkit+layer_norm": {"layer_norm": True},
    "rnnkit+recurrent_dropout": {"recurrent_dropout": 0.25},
    "rnnkit+zoneout": {"zoneout": 0.1},
    "rnnkit+all three": {"layer_norm": True, "recurrent_dropout": 0.25, "zoneout": 0.1},
}


# ---- timing --------------------------------------------------------------------------------
def time_round_robin(fns: dict, repeats: int, inner: dict, warmup: int = 2) -> dict:
    """``{name: [seconds per call, one per repeat]}``, timing the ``fns`` in turn."""
    for name, fn in fns.items():
        for _ in range(warmup * inner[name]):
            fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(inner[name]):
                fn()
            times[name].append((time.perf_counter() - t0) / inner[name])
    return times


def summary(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "repeats": len(values)}


def calibrate(fn, target_s: float) -> int:
    """Calls per repeat so that one repeat takes about ``target_s``."""
    fn()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-7)
    return max(1, int(target_s / one))


# ---- the machine's matrix-multiply rate ----------------------------------------------------
def matmul_rate(repeats: int) -> dict:
    """GFLOP/s of torch.mm at the shapes the layers use (per step, hoisted, weight grad)."""
    shapes = {"step (64x256 @ 256x1024)": (64, 256, 1024),
              "hoisted (6400x32 @ 32x1024)": (6400, 32, 1024),
              "weight grad (1024x6400 @ 6400x256)": (1024, 6400, 256),
              "matvec (1x160 @ 160x512)": (1, 160, 512)}
    fns, flops = {}, {}
    for name, (m, k, n) in shapes.items():
        a, b = torch.randn(m, k), torch.randn(k, n)
        out = torch.empty(m, n)
        fns[name] = lambda a=a, b=b, out=out: torch.mm(a, b, out=out)
        flops[name] = 2 * m * k * n
    inner = {name: calibrate(fn, 0.05) for name, fn in fns.items()}
    times = time_round_robin(fns, repeats, inner)
    return {name: {"gflops": flops[name] / statistics.median(t) / 1e9, **summary(t)}
            for name, t in times.items()}


# ---- training --------------------------------------------------------------------------------
def train_flops(mode: str, hidden: int, layers: int) -> float:
    """FLOPs of one training step of a batch: 3x the forward's matrix products."""
    G, total = GATES[mode] * hidden, 0
    for k in range(layers):
        fan_in = INPUT if k == 0 else hidden
        total += 2 * BATCH * LENGTH * G * (fan_in + hidden)
    return 3 * total


class CellLoop(nn.Module):
    """A plain eager loop of torch.nn cells over time (what a user writes by hand)."""

    def __init__(self, mode: str, hidden: int, layers: int) -> None:
        super().__init__()
        self.mode = mode
        self.cells = nn.ModuleList(TORCH_CELL[mode](INPUT if k == 0 else hidden, hidden)
                                   for k in range(layers))

    def forward(self, x):
        for cell in self.cells:
            state, ys = None, []
            for t in range(x.shape[0]):
                state = cell(x[t], state)
                ys.append(state[0] if self.mode == "LSTM" else state)
            x = torch.stack(ys)
        return x, None


def train_models(mode: str, hidden: int, layers: int, keras: bool) -> dict:
    torch.manual_seed(0)
    models = {"torch.nn fused": TORCH[mode](INPUT, hidden, layers)}
    for name, extras in EXTRAS.items():
        models[name] = RNNKIT[mode](INPUT, hidden, layers, **extras)
    models["eager cell loop"] = CellLoop(mode, hidden, layers)
    if keras and mode == "LSTM":
        models["keras 3 LSTM (torch backend)"] = keras_lstm(hidden, layers)
    return models


def keras_lstm(hidden: int, layers: int):
    import keras  # optional: needs KERAS_BACKEND=torch

    stack = [keras.layers.LSTM(hidden, return_sequences=True) for _ in range(layers)]
    model = keras.Sequential([keras.Input((LENGTH, INPUT))] + stack)

    class Wrap(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model
            self.params = nn.ParameterList([w.value for w in model.trainable_weights])

        def forward(self, x):
            return self.model(x.transpose(0, 1)), None

    return Wrap()


def train_step_fn(model: nn.Module, x: torch.Tensor):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()

    def step():
        opt.zero_grad(set_to_none=True)
        out, _ = model(x)
        loss = out.square().mean()
        loss.backward()
        opt.step()

    return step


def bench_train(modes, hiddens, layer_counts, repeats: int, keras: bool) -> list[dict]:
    rows = []
    for mode in modes:
        for hidden in hiddens:
            for layers in layer_counts:
                x = torch.randn(LENGTH, BATCH, INPUT)
                models = train_models(mode, hidden, layers, keras)
                fns = {name: train_step_fn(m, x) for name, m in models.items()}
                times = time_round_robin(fns, repeats, {n: 1 for n in fns}, warmup=2)
                base = statistics.median(times["torch.nn fused"])
                for name, t in times.items():
                    s = summary([BATCH / v for v in t])
                    rows.append({"mode": mode, "hidden": hidden, "layers": layers, "path": name,
                                 "seq_per_s": s, "ratio": base / statistics.median(t),
                                 "flops": train_flops(mode, hidden, layers)})
                print_rows(rows[-len(times):], "seq_per_s", "seq/s")
    return rows


# ---- inference on whole sequences ----------------------------------------------------------
def ort_session(path: str, threads: int | None = None, spin: bool = True):
    """An onnxruntime CPU session. ``spin=False`` stops its idle threads from spin-waiting
    after each run: in a round-robin timing they would otherwise take the cores from the
    row timed next."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    if not spin:
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.log_severity_level = 3
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])


def bench_sequence(modes, hidden: int, repeats: int, tmp: Path, extras: dict) -> list[dict]:
    rows = []
    for mode in modes:
        for tag, kw in extras.items():
            torch.manual_seed(0)
            ours = RNNKIT[mode](INPUT, hidden, **kw).eval()
            x = torch.randn(LENGTH, BATCH, INPUT)
            fns = {f"rnnkit{tag}": lambda: ours(x)}
            if not kw:
                ref = TORCH[mode](INPUT, hidden).eval()
                ref.load_state_dict(ours.state_dict())
                fns["torch.nn"] = lambda: ref(x)
            path = str(tmp / f"{mode}{tag}.onnx")
            rnnkit.export.to_onnx(ours, path)
            sess = ort_session(path, spin=False)
            feed = {"x": x.numpy()}
            for i in sess.get_inputs()[1:]:  # h0 (c0): zeros, as the torch calls get
                feed[i.name] = torch.zeros(1, BATCH, hidden).numpy()
            fns[f"onnxruntime{tag}"] = lambda s=sess, f=feed: s.run(None, f)
            with torch.inference_mode():
                inner = {n: calibrate(fn, 0.1) for n, fn in fns.items()}
                times = time_round_robin(fns, repeats, inner)
            base = min(statistics.median(t) for n, t in times.items() if n != f"rnnkit{tag}")
            for name, t in times.items():
                rows.append({"mode": mode, "hidden": hidden, "path": name,
                             "seq_per_s": summary([BATCH / v for v in t]),
                             "ratio": base / statistics.median(t),
                             "flops": train_flops(mode, hidden, 1) / 3})
            print_rows(rows[-len(times):], "seq_per_s", "seq/s")
    return rows


# ---- streaming -----------------------------------------------------------------------------
def bench_stream(modes, hidden: int, repeats: int, tmp: Path, extras: dict) -> list[dict]:
    from rnnkit.nn.cpu import Stepper

    rows = []
    for mode in modes:
        for tag, kw in extras.items():
            torch.manual_seed(0)
            ours = RNNKIT[mode](INPUT, hidden, **kw).eval()
            xs = torch.randn(64, 1, INPUT)
            fns = {}
            stepper = Stepper(ours)
            it = {"i": 0}

            def nxt():
                it["i"] = (it["i"] + 1) & 63
                return xs[it["i"]]

            fns[f"rnnkit Stepper{tag}"] = lambda: stepper(nxt())
            ours.validate_inputs = True
            st = {"s": None}

            def layer_step():
                _, st["s"] = ours.step(nxt(), st["s"])

            fns[f"rnnkit layer.step{tag}"] = layer_step
            if not kw:
                ref = TORCH[mode](INPUT, hidden).eval()
                ref.load_state_dict(ours.state_dict())
                cell = TORCH_CELL[mode](INPUT, hidden).eval()
                cell.load_state_dict({k[:-3]: v for k, v in ours.state_dict().items()})
                ts = {"s": None, "c": None}

                def torch_step():
                    _, ts["s"] = ref(nxt().unsqueeze(0), ts["s"])

                def cell_step():
                    ts["c"] = cell(nxt(), ts["c"])

                fns["torch nn per step"] = torch_step
                fns["torch nn cell per step"] = cell_step
            path = str(tmp / f"{mode}{tag}-step.onnx")
            rnnkit.export.to_onnx(ours, path, kind="step")
            xs_np = xs.numpy()
            for threads in (1, None):
                sess = ort_session(path, threads)
                names = [i.name for i in sess.get_inputs()]
                state = {n: torch.zeros(1, 1, hidden).numpy() for n in names if n != "x_t"}

                def ort_step(sess=sess, state=state):
                    it["i"] = (it["i"] + 1) & 63
                    out = sess.run(None, {"x_t": xs_np[it["i"]], **state})
                    state["h"] = out[1]
                    if "c" in state:
                        state["c"] = out[2]

                label = f"onnxruntime per step{tag}" + (" (1 thread)" if threads == 1 else "")
                fns[label] = ort_step
            with torch.inference_mode():
                inner = {n: calibrate(fn, 0.05) for n, fn in fns.items()}
                times = time_round_robin(fns, repeats, inner)
            ort_best = min(statistics.median(t) for n, t in times.items() if n.startswith("onnx"))
            for name, t in times.items():
                rows.append({"mode": mode, "hidden": hidden, "path": name,
                             "us_per_step": summary([v * 1e6 for v in t]),
                             "ratio": ort_best / statistics.median(t),
                             "flops": 2 * GATES[mode] * hidden * (INPUT + hidden)})
            print_rows(rows[-len(times):], "us_per_step", "us/step")
    return rows


# ---- report ----------------------------------------------------------------------------------
def print_rows(rows: list[dict], key: str, unit: str) -> None:
    r0 = rows[0]
    head = f"{r0['mode']} hidden {r0['hidden']}" + (f" layers {r0['layers']}" if "layers" in r0 else "")
    print(f"\n{head}")
    for r in rows:
        s = r[key]
        print(f"  {r['path']:<40} {s['median']:>10.1f} {unit}  [{s['min']:.1f} .. {s['max']:.1f}]"
              f"  x{r['ratio']:.2f}" + (f"  floor {r['of_floor']:.0%}" if "of_floor" in r else ""))


def add_floor(rows: list[dict], key: str, rate_gflops: float) -> None:
    """``of_floor``: the arithmetic floor's time over the measured time (1.0 = at the floor)."""
    for r in rows:
        floor_s = r["flops"] / (rate_gflops * 1e9)
        measured_s = (BATCH / r[key]["median"]) if key == "seq_per_s" else r[key]["median"] * 1e-6
        r["floor_s"], r["of_floor"] = floor_s, floor_s / measured_s


def machine() -> dict:
    model = platform.processor()
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = next(line.split(":", 1)[1].strip() for line in out.splitlines()
                     if line.startswith("Model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": model, "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__, "python": platform.python_version(),
            "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY")}


def markdown(result: dict) -> str:
    lines = []
    for section, key, unit in (("train", "seq_per_s", "seq/s"), ("sequence", "seq_per_s", "seq/s"),
                               ("stream", "us_per_step", "µs/step")):
        if not result.get(section):
            continue
        lines += [f"\n### {section}\n", f"| config | path | {unit} median [min .. max] | ratio | of floor |",
                  "|---|---|---|---|---|"]
        for r in result[section]:
            s = r[key]
            cfg = f"{r['mode']} H{r['hidden']}" + (f" x{r['layers']}" if "layers" in r else "")
            lines.append(f"| {cfg} | {r['path']} | {s['median']:.1f} [{s['min']:.1f} .. {s['max']:.1f}] "
                         f"| {r['ratio']:.2f} | {r.get('of_floor', 0):.0%} |")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="hidden 256, one layer; fewer rows")
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats per row (>= 5)")
    ap.add_argument("--sections", default="floor,train,sequence,stream")
    ap.add_argument("--keras", action="store_true", help="add Keras 3's LSTM (torch backend)")
    ap.add_argument("--json", default=str(Path(__file__).parent / "perf" / "cpu_perf.json"))
    args = ap.parse_args(argv)
    repeats = max(5, args.repeats)
    sections = args.sections.split(",")
    hiddens, layer_counts = ([256], [1]) if args.quick else ([128, 256], [1, 2])
    result = {"machine": machine(), "command": " ".join(sys.argv), "repeats": repeats}
    print(result["machine"])
    rates = matmul_rate(repeats)
    result["matmul"] = rates
    rate = max(r["gflops"] for n, r in rates.items() if not n.startswith("matvec"))
    matvec = rates["matvec (1x160 @ 160x512)"]["gflops"]
    print("matmul GFLOP/s:", {n: round(r["gflops"], 1) for n, r in rates.items()})
    all_extras = {"": {}, "+layer_norm": {"layer_norm": True}}
    with tempfile.TemporaryDirectory() as tmp:
        if "train" in sections:
            result["train"] = bench_train(["LSTM", "GRU"], hiddens, layer_counts, repeats, args.keras)
            add_floor(result["train"], "seq_per_s", rate)
        if "sequence" in sections:
            result["sequence"] = bench_sequence(["LSTM", "GRU"], 256, repeats, Path(tmp), all_extras)
            add_floor(result["sequence"], "seq_per_s", rate)
        if "stream" in sections:
            result["stream"] = bench_stream(["LSTM", "GRU"], STREAM_HIDDEN, repeats, Path(tmp),
                                            all_extras)
            add_floor(result["stream"], "us_per_step", matvec)
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=1))
    print(markdown(result))
    print(f"\nwrote {args.json}")


if __name__ == "__main__":
    main()
