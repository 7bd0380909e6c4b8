#!/usr/bin/env python
"""What a continuous code that *is* one of the paper's factors would score in ``infogan evaluate``'s morphometry:
a pure shear (slant) and a pure stretch across the digit's axis (width) applied to real digits, as a markdown
table of the mean Spearman rho with each measure, and the two paired as codes are; and the cosine between the two
factors' changes of each digit's pixels (what ``loss.orthogonal`` penalises, squared, between two codes).

    python scripts/morphometry_reference.py [--n 1000] [--seed 0]
"""

from __future__ import annotations

import argparse

import numpy as np

from infogan.data.bundled import load_bundled
from infogan.metrics.morphometry import MEASURES, pair_codes, pure_factor, reference_effects, slant_tangents


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1000, help="digits, drawn from the bundled MNIST (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="which digits (default 0)")
    args = p.parse_args()
    images, _ = load_bundled()
    if not 1 <= args.n <= len(images):
        p.error(f"--n must be between 1 and {len(images)}, the bundled digits")
    digits = images[np.random.default_rng(args.seed).choice(len(images), args.n, replace=False)]
    effects = reference_effects(digits)
    print(f"{args.n} bundled MNIST digits (seed {args.seed}), 9 steps per row\n")
    print("| pure factor | " + " | ".join(MEASURES) + " | next \\|rho\\| |")
    print("|---" * (len(MEASURES) + 2) + "|")
    for name, e in effects.items():
        print(f"| {name} | " + " | ".join(f"{e.rho[m]:+.2f}" for m in MEASURES) + f" | {e.other:.2f} |")
    pairing = pair_codes({name: e.rho for name, e in effects.items()})
    print(f"\npaired: {pairing.measures}, own |rho| {pairing.own:.2f}, cross |rho| {pairing.cross:.2f}")
    x, eps = digits.astype(np.float32) / 255, 0.05
    cos = []
    for image, t in zip(x, slant_tangents(x)):
        slant = pure_factor(image, "slant", eps, t) - pure_factor(image, "slant", -eps, t)
        width = pure_factor(image, "width", 1 + eps, t) - pure_factor(image, "width", 1 - eps, t)
        cos.append((slant * width).sum() / (np.linalg.norm(slant) * np.linalg.norm(width) + 1e-12))
    cos = np.array(cos)
    print(f"cosine between the slant and width changes of a digit's pixels: median {np.median(cos):+.3f}, "
          f"mean square {np.mean(cos**2):.3f}, largest |cos| {np.abs(cos).max():.2f}")


if __name__ == "__main__":
    main()
