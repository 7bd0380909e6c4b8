"""Rebuild the docs' figures (docs/mi-*.png, traverse-*.png) from two runs: InfoGAN and its plain-GAN baseline.

    python scripts/docs_figures.py RUN_INFOGAN RUN_GAN [--out docs]

Writes the L_I curves of both runs over their first 1,000 steps (the paper's Figure 1) and a
traversal grid for each code of each run (Figure 2).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from infogan.runs import RunDir, load_model
from infogan.viz import plot_mi_curves, traversal_png


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("infogan_run", type=Path)
    p.add_argument("gan_run", type=Path)
    p.add_argument("--out", type=Path, default=Path("docs"))
    p.add_argument("--max-step", type=int, default=1000)
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    runs = {"InfoGAN": RunDir(args.infogan_run).metrics_path, "GAN (lambda = 0)": RunDir(args.gan_run).metrics_path}
    model = load_model(args.infogan_run)
    for code in model.spec.codes:
        plot_mi_curves(runs, code, args.out / f"mi-{code.name}.png", max_step=args.max_step)
    for tag, run in (("infogan", args.infogan_run), ("gan", args.gan_run)):
        m = load_model(run)
        for code in m.spec.codes:
            traversal_png(m, code.name, args.out / f"traverse-{tag}-{code.name}.png")
    print(f"figures written to {args.out}/")


if __name__ == "__main__":
    main()
