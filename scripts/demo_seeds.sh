#!/usr/bin/env bash
# What `make demo` does (train the default, evaluate, report), once per seed, each command a fresh process, one seed
# at a time (2 cores); one line per seed with its wall time, then `infogan sweep` reads the runs back into a table
# (OUT/sweep.md: accuracy, NMI, stability, L_I, FD-digits, diagnosis; median and worst). Arguments after `--` go to
# both `infogan train` and `infogan sweep`, so they must be ones both take (--preset, --set, --steps).
#   bash scripts/demo_seeds.sh OUT SEED... [-- ARG...]
#   e.g. bash scripts/demo_seeds.sh runs/test-seeds 0 1 2 3 4 5 6 7 8 9
#        bash scripts/demo_seeds.sh runs/test-seeds-gan 0 1 2 -- --preset mnist-gan --set train.starts=1
set -euo pipefail
out=$1; shift
seeds=(); extra=()
while (($#)); do
  if [[ $1 == -- ]]; then shift; extra=("$@"); break; fi
  seeds+=("$1"); shift
done
mkdir -p "$out"
for seed in "${seeds[@]}"; do
  run=$out/seed-$seed
  t0=$(date +%s.%N)
  infogan train --seed "$seed" --out "$run" --quiet "${extra[@]}"
  t1=$(date +%s.%N)
  infogan evaluate "$run" > "$run/evaluate.txt"
  infogan report "$run" > /dev/null
  t2=$(date +%s.%N)
  python3 -c "import json, sys; t0, t1, t2 = map(float, sys.argv[1:4]); print(json.dumps({'seed': int(sys.argv[4]),
    'train_s': round(t1 - t0, 1), 'evaluate_report_s': round(t2 - t1, 1), 'wall_s': round(t2 - t0, 1)}))" \
    "$t0" "$t1" "$t2" "$seed" | tee -a "$out/wall.jsonl"
done
infogan sweep --seeds "${seeds[@]}" --out "$out" --quiet "${extra[@]}" > /dev/null
cat "$out/sweep.md"
