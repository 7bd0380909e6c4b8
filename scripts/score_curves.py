#!/usr/bin/env python
"""Several runs' disentanglement curves side by side (their ``scores.jsonl``, from ``train.score_every``): FactorVAE
and MIG against the step, one line per run, into one PNG; and a markdown table of every scored step.

    python scripts/score_curves.py --out docs/dsprites-curves.png NAME=RUN_DIR [NAME=RUN_DIR ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from infogan.runs import RunDir
from infogan.viz import read_metrics, runs_scores_png

METRICS = {"factor_vae": "FactorVAE", "mig": "MIG", "dci_disentanglement": "DCI-D", "dci_informativeness": "DCI-I"}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("runs", nargs="+", metavar="NAME=RUN_DIR")
    p.add_argument("--out", type=Path, required=True, help="PNG to write")
    args = p.parse_args()
    curves = {}
    for item in args.runs:
        name, _, path = item.partition("=")
        scores = RunDir(Path(path)).scores_path
        if not scores.is_file():
            raise SystemExit(f"score_curves: {scores} does not exist (train with --set train.score_every=N)")
        curves[name] = read_metrics(scores)
    args.out.write_bytes(runs_scores_png(curves))
    print("| run | step | " + " | ".join(METRICS.values()) + " |")
    print("| --- | --- |" + " --- |" * len(METRICS))
    for name, rows in curves.items():
        for r in rows:
            print(f"| {name} | {r['step']:,} | " + " | ".join(f"{r[k]:.3f}" for k in METRICS) + " |")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
