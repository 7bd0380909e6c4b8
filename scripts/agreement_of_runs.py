"""How well agreement between runs finds the runs that name the digits: each checkpoint's cat0 partition of the
bundled digits, its mean NMI with the other checkpoints' partitions (the label-free score of ``train.start_score =
"agreement"``), its stability, and (label-based, for checking only) its Hungarian-matched accuracy.

    python scripts/agreement_of_runs.py runs/sweep-starts/seed-*/checkpoints/step-0002000.safetensors ...

Prints one line per checkpoint, sorted by agreement.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from infogan.data import load_dataset
from infogan.metrics import cluster_score
from infogan.metrics.diagnosis import diagnose
from infogan.metrics.stability import code_stability
from infogan.runs import load_checkpoint, restore_model
from infogan.starts import agreement


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoints", nargs="+", type=Path)
    args = p.parse_args()
    data = load_dataset("bundled")
    labels = data.labels.numpy()
    rows = []
    for path in args.checkpoints:
        model = restore_model(load_checkpoint(path))
        codes = model.spec.point_estimate(model.encode(data.images))["cat0"].numpy()
        score = cluster_score(codes, labels, 10, 10)
        rows.append((path, codes, code_stability(model, data.images)["cat0"].kept, score))
    scores = agreement([r[1] for r in rows], 10)
    for (path, _, kept, score), agree in sorted(zip(rows, scores), key=lambda t: -t[1]):
        print(f"agreement {agree:.4f}  stability {kept:.4f}  accuracy {score.accuracy:.2%}  {path}  "
              f"({diagnose(score.confusion).line('cat0')})")


if __name__ == "__main__":
    main()
