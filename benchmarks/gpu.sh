#!/usr/bin/env bash
# Both benchmarks on a CUDA machine, in one call of about 8 minutes; prints the tables.
#   bash benchmarks/gpu.sh [RESULTS_DIR]
# Needs the package importable (pip install -e ., or PYTHONPATH=src) with a CUDA build of torch.
# Each benchmark runs under its own time limit, so one that fails or overruns still leaves the other's table.
set -uo pipefail
out=${1:-benchmarks/results}
mkdir -p "$out"
python3 - <<'PY' || exit 1
import torch
assert torch.cuda.is_available(), "no CUDA device: run this on a GPU machine"
print(f"{torch.cuda.get_device_name()}  torch {torch.__version__}  CUDA {torch.version.cuda}", flush=True)
PY
# Batches up to 8192 (the bundled digits are 10,000 images); compiled: the default under torch.compile.
timeout 330 python3 benchmarks/train_throughput.py --device cuda --batch-sizes 128 1024 4096 8192 --rounds 2 \
  --seconds 2 --variants reference fp32 bf16 default compiled --results "$out/train_throughput-gpu.jsonl"
echo "train_throughput exit $?"
timeout 200 python3 benchmarks/time_to_accuracy.py --device cuda --variants fp32:1 auto:1 --seeds 0 \
  --marks 0.25 0.5 1 --results "$out/time_to_accuracy-gpu.jsonl"
echo "time_to_accuracy exit $?"
