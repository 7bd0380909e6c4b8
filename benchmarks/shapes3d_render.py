"""Render speed of --data shapes3d: tracing each geometry once, then images/s from the traced layers.

    python benchmarks/shapes3d_render.py [--n 20000] [--rounds 3]

Prints figures only (no results file): the seconds that tracing all 480 (scale, shape, orientation) geometries
takes, once per process; then the images/s of rendering a fixed random subset of --n images once they are traced,
in each of --rounds rounds and their median. The first round is slower: it also pays for the output's fresh memory.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np

from infogan.data import shapes3d
from infogan.data.image_data import subset_indices


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=20_000, help="images per round")
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    geometries = math.prod(shapes3d.GRID[3:])
    start = time.perf_counter()
    shapes3d.render(np.arange(geometries))  # the first 480 indices hold every geometry once: it varies fastest
    traced = time.perf_counter() - start
    indices = subset_indices(shapes3d.COUNT, args.n)
    rates = []
    for _ in range(args.rounds):
        start = time.perf_counter()
        shapes3d.render(indices)
        rates.append(args.n / (time.perf_counter() - start))
    print(f"tracing {geometries} geometries: {traced:.2f} s ({traced / geometries * 1000:.1f} ms each)")
    print(f"rendering {args.n:,} traced images: {statistics.median(rates):,.0f} images/s "
          f"(median of {args.rounds} rounds: {', '.join(f'{r:,.0f}' for r in rates)})")


if __name__ == "__main__":
    main()
