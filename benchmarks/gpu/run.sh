#!/usr/bin/env bash
# The one GPU check of issue 8: parity of the fused Triton path with the CPU reference,
# training throughput against cuDNN, streaming latency. About 3-5 minutes on one H100/H200.
# Results: $OUT/gpu_bench.json and $OUT/gpu_bench.md ($OUT defaults to benchmarks/out/gpu).
set -u
cd "$(dirname "$0")/../.."
export PYTHONPATH="src${PYTHONPATH:+:$PYTHONPATH}"
export OUT="${OUT:-benchmarks/out/gpu}"
mkdir -p "$OUT"
PY="${PYTHON:-python3}"
# hard stop well inside the device budget; the script also skips sections started after 270 s
timeout -k 10 330 "$PY" -u benchmarks/gpu/bench_gpu.py --budget 270 --out "$OUT" 2>&1 | tee "$OUT/gpu_bench.log"
status=${PIPESTATUS[0]}
# the unit tests of the fused path (parity vs the reference loop), if pytest is there;
# capped at 60 s: the bench above already checked parity, this adds slots and streaming
if "$PY" -c "import pytest, rnnkit" 2>/dev/null; then
  timeout -k 5 60 "$PY" -m pytest -q -x -p no:cacheprovider tests/nn/test_gpu_fused.py 2>&1 | tail -5 | tee -a "$OUT/gpu_bench.log"
fi
exit "$status"
