#!/usr/bin/env bash
# The one GPU check of issue 8: parity of the fused Triton path with the CPU reference,
# streaming latency (floors, graph step, fused one-kernel step), training throughput
# against cuDNN, a time breakdown. The last run took about 145 s on an H200; the hard caps
# below keep the whole script under 5 minutes.
# Results: $OUT/gpu_bench.json and $OUT/gpu_bench.md ($OUT defaults to benchmarks/out/gpu).
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH="src${PYTHONPATH:+:$PYTHONPATH}"
export OUT="${OUT:-benchmarks/out/gpu}"
mkdir -p "$OUT"
PY="${PYTHON:-python3}"
# hard stop at 220 s; the script also skips sections (and training rows) started after 180 s
timeout -k 10 220 "$PY" -u benchmarks/gpu/bench_gpu.py --budget 180 --out "$OUT" 2>&1 | tee "$OUT/gpu_bench.log"
status=${PIPESTATUS[0]}
# the unit tests of the fused path, if pytest is there: the streaming steppers first (they
# are quick), then the whole file; capped, as the bench above already checked parity
if "$PY" -c "import pytest, rnnkit" 2>/dev/null; then
  timeout -k 5 25 "$PY" -m pytest -q -p no:cacheprovider tests/nn/test_gpu_fused.py -k "step" 2>&1 | tail -3 | tee -a "$OUT/gpu_bench.log"
  timeout -k 5 40 "$PY" -m pytest -q -x -p no:cacheprovider tests/nn/test_gpu_fused.py 2>&1 | tail -3 | tee -a "$OUT/gpu_bench.log"
fi
exit "$status"
