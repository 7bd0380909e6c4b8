#!/usr/bin/env bash
# Issue 17's long runs in one call on a CUDA machine: dSprites with InfoGAN-CR, the paper's InfoGAN and the plain GAN,
# and the shapes3d scene, 3 seeds each on the same step budget, Q's disentanglement scored every SCORE steps
# (scores.jsonl per seed, the curve), each preset's table (OUT/PRESET/sweep.md: FactorVAE, MIG, SAP, DCI; median,
# worst, the most central seed) printed at the end.
#   bash benchmarks/gpu_disentangle.sh [OUT] [STEPS] [SCORE] [DEVICE...]
#   e.g. bash benchmarks/gpu_disentangle.sh runs/disentangle 20000 2500 cuda:0
#        PRESETS=shapes3d bash benchmarks/gpu_disentangle.sh /tmp/smoke 4 2 cpu   # the plumbing, on a CPU
# Needs the package importable (pip install -e ., or PYTHONPATH=src). Rerunning the same command continues
# (`infogan sweep` resumes seeds cut short and reads finished ones back), so a call cut off by a time limit is
# not lost. InfoGAN-CR's own run is 320,000 steps of batch 64 with the regulariser from step 288,000 on.
set -uo pipefail
out=${1:-runs/disentangle}; steps=${2:-20000}; score=${3:-2500}; shift $(( $# < 3 ? $# : 3 ))
devices=("${@:-cuda:0}")
read -ra presets <<< "${PRESETS:-dsprites-cr dsprites dsprites-gan shapes3d}"  # PRESETS="a b": only these
status=0
for p in "${presets[@]}"; do
  echo "== $p: seeds 0 1 2, $steps steps on ${devices[*]}" >&2
  python3 -m infogan sweep --preset "$p" --seeds 0 1 2 --steps "$steps" --out "$out/$p" --quiet \
    --devices "${devices[@]}" --set train.score_every="$score" --set train.device="${devices[0]%%:*}" \
    > /dev/null || status=1
done
for p in "${presets[@]}"; do
  echo; echo "## $p"; cat "$out/$p/sweep.md" 2>/dev/null || echo "(no table)"
done
exit $status
