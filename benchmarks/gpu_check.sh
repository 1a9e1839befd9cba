#!/usr/bin/env bash
# GPU readiness in one run, under 5 minutes on one CUDA device: the CUDA tests (every layer kind, the
# network and a compiled module against CPU), then the benchmarks with --device cuda.
#   benchmarks/gpu_check.sh            (PYTHON=... to choose the interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
$PY -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 'gpu_check.sh: no CUDA device')"
$PY -c "import torch; print(torch.__version__, torch.cuda.get_device_name(0))"
timeout 150 $PY -m pytest -q -p no:randomly -m gpu tests/test_gpu.py
timeout 45 $PY benchmarks/bench_layers.py --case s22 --device cuda --quick --skip-ign
timeout 45 $PY benchmarks/bench_mixed.py --device cuda --quick --repeat 3
timeout 45 $PY benchmarks/bench_products.py --device cuda --quick --repeat 3
timeout 60 $PY benchmarks/bench_compile.py --device cuda
