#!/usr/bin/env bash
# Both benchmarks on a CUDA machine, in one call of a few minutes; prints the tables.
#   bash benchmarks/gpu.sh [RESULTS_DIR]
# Needs the package installed (pip install -e .) with a CUDA build of torch.
set -euo pipefail
out=${1:-benchmarks/results}
python - <<'PY'
import torch
assert torch.cuda.is_available(), "no CUDA device: run this on a GPU machine"
print(f"{torch.cuda.get_device_name()}  torch {torch.__version__}  CUDA {torch.version.cuda}")
PY
python benchmarks/train_throughput.py --device cuda --batch-sizes 128 1024 4096 --rounds 3 --seconds 4 \
  --results "$out/train_throughput-gpu.jsonl"
python benchmarks/time_to_accuracy.py --device cuda --variants fp32:1 bf16:1 --seeds 0 --marks 0.25 0.5 1 \
  --results "$out/time_to_accuracy-gpu.jsonl"
