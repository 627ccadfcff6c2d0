"""schemathesis against ``rnnkit serve``: every route of every task, generated requests,
checked for server errors, undocumented status codes and answers that break the schema.

Fits one small model of each task (forecaster, anomaly detector, series classifier, text
classifier, language model), serves them all from one process, and runs ``schemathesis run`` with every
check (examples, coverage, fuzzing and stateful phases) on the OpenAPI document.

    python benchmarks/serve_fuzz.py [--max-examples 200] [--seed 1]

Exit status 0 when schemathesis finds nothing; its report goes to
``benchmarks/out/serve_fuzz.txt``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "out"
EXCLUDED = "positive_data_acceptance,missing_required_header,unsupported_method,ignored_auth"


def models(tmp: Path) -> list[str]:
    import rnnkit
    from rnnkit.data import datasets

    weather = datasets.load("seattle-weather")
    f = rnnkit.Forecaster(lookback=28, horizon=7, hidden_size=16, epochs=2, progress="none")
    f.fit(weather, time="date", target="temp_max", past_covariates=["precipitation"])
    d = rnnkit.AnomalyDetector(hidden_size=16, epochs=2, progress="none")
    d.fit(weather.iloc[:800], time="date", columns=["temp_max", "temp_min"])
    rng = np.random.default_rng(0)
    X = [np.sin(np.arange(n) * (0.3 if k % 2 else 1.0))[:, None] + 0.1 * rng.normal(size=(n, 1))
         for k, n in enumerate(rng.integers(8, 40, 60))]
    c = rnnkit.SequenceClassifier(hidden_size=8, epochs=2).fit(X, ["slow" if k % 2 else "fast" for k in range(60)])
    texts = ["good tasty fresh", "bad stale", "really good value", "awful and old"] * 10
    t = rnnkit.TextClassifier(hidden_size=8, min_freq=1, epochs=2, progress="none").fit(
        texts, ["great", "other"] * 20)
    lm = rnnkit.LanguageModel(hidden_size=16, embedding_dim=8, epochs=1, bptt=8, batch_size=4,
                              min_freq=1).fit(texts)
    return [f"weather={f.save(tmp / 'w.rnnkit')}", f"sensors={d.save(tmp / 's.rnnkit')}",
            f"waves={c.save(tmp / 'c.rnnkit')}", f"reviews={t.save(tmp / 't.rnnkit')}",
            f"lm={lm.save(tmp / 'lm.rnnkit')}"]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--max-examples", type=int, default=200)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--port", type=int, default=8791)
    args = p.parse_args()
    import httpx

    OUT.mkdir(exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="rnnkit-fuzz-"))
    specs = models(tmp)
    server = subprocess.Popen([sys.executable, "-c", "from rnnkit.cli.main import main; raise SystemExit(main())",
                               "serve", *specs, "--port", str(args.port), "--log-level", "warning",
                               "--max-wait-ms", "1"], env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"})
    url = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(240):
            try:
                if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.25)
        st = shutil.which("schemathesis") or str(Path(sys.executable).parent / "schemathesis")
        start = time.time()
        config = Path(__file__).resolve().parent.parent / "tests" / "serve" / "schemathesis.toml"
        done = subprocess.run([st, "--config-file", str(config), "run", url + "/openapi.json", "--checks", "all", "--exclude-checks", EXCLUDED,
                               "--max-examples", str(args.max_examples), "--seed", str(args.seed),
                               "--suppress-health-check", "all", "--no-color"],
                              capture_output=True, text=True, cwd=tmp)
        report = done.stdout + done.stderr
        (OUT / "serve_fuzz.txt").write_text(report)
        print(report[-3000:])
        print(f"schemathesis exit status {done.returncode} after {time.time() - start:.0f} s; "
              f"server alive: {server.poll() is None}")
        return done.returncode
    finally:
        server.terminate()
        server.wait(60)


if __name__ == "__main__":
    raise SystemExit(main())
