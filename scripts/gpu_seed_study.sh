#!/usr/bin/env bash
# How often each MNIST variant merges digits, over many seeds at once on one GPU: at batch 128 the step is bound by
# the host, so 8 training processes share the card. Prints one line per run (accuracy, stability, diagnosis).
#   bash scripts/gpu_seed_study.sh OUT STEPS "SEED..." NAME:SECTION.KEY=VALUE,... [NAME:...]
# e.g. bash scripts/gpu_seed_study.sh /tmp/study 2400 "0 1 2 3 4 5 6 7" base:train.starts=1 sel:train.starts=4
set -uo pipefail
out=$1 steps=$2 seeds=$3
shift 3
export OMP_NUM_THREADS=2
mkdir -p "$out"
for variant in "$@"; do
  name=${variant%%:*}
  args=()
  IFS=, read -ra pairs <<< "${variant#*:}"
  for kv in "${pairs[@]}"; do [ -n "$kv" ] && args+=(--set "$kv"); done
  t0=$(date +%s)
  # shellcheck disable=SC2086
  timeout "${STUDY_TIMEOUT:-600}" python3 -m infogan sweep --seeds $seeds --steps "$steps" --quiet --out "$out/$name" \
    --devices cuda cuda cuda cuda cuda cuda cuda cuda "${args[@]}" > "$out/$name.log" 2>&1
  echo "== $name (${variant#*:}): exit $?, $(( $(date +%s) - t0 )) s"
  python3 - "$out/$name" <<'PY'
import json, pathlib, sys
for p in sorted(pathlib.Path(sys.argv[1]).glob("seed-*/evaluation.json"), key=lambda p: int(p.parent.name[5:])):
    r = json.loads(p.read_text())
    print(f"{p.parent.name} step {r['step']} acc {r['accuracy']:.2%} kept {r['stability']['cat0']['kept']:.3f} "
          f"{r.get('diagnosis_line', '')}")
PY
  tail -n 3 "$out/$name.log"
done
