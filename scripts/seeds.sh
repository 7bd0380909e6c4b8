#!/usr/bin/env bash
# The paper-objective results table of docs/history.md: the default `infogan train` (MNIST preset, bundled digits, 9 minutes)
# for several seeds, each followed by `infogan evaluate --json`. One training at a time: 2 cores.
#   bash scripts/seeds.sh OUT_DIR SEED...
set -euo pipefail
out=$1; shift
for seed in "$@"; do
  start=$(date +%s)
  infogan train --seed "$seed" --out "$out/seed$seed" --quiet
  end=$(date +%s)
  infogan evaluate "$out/seed$seed" --json | python3 -c "
import json, sys
r = json.load(sys.stdin)
print(json.dumps({'seed': $seed, 'wall_s': $end - $start, 'step': r['step'], 'accuracy': r['accuracy'], 'nmi': r['nmi'], 'mi': r['mi']}))
"
done
