"""Draw docs/shapes3d-factors.png: one row per factor of --data shapes3d, each varied from one base scene.

    python scripts/shapes3d_figure.py [--out docs/shapes3d-factors.png]

Rows, top to bottom: floor_hue, wall_hue, object_hue, scale, shape, orientation, every value of the factor from
left to right while the others keep the base scene's (orange floor, blue wall, green cube of middle size, turned
12.9 degrees); a factor with fewer than 15 values leaves its row's end blank.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from infogan.data import shapes3d
from infogan.viz import grid, save_png

BASE = (1, 6, 3, 4, 0, 10)  # factor classes, in shapes3d.FACTOR_NAMES order


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=Path("docs/shapes3d-factors.png"))
    args = p.parse_args()
    columns = max(shapes3d.GRID)
    rows = []
    for factor, levels in enumerate(shapes3d.GRID):
        scenes = np.array([BASE] * levels)
        scenes[:, factor] = np.arange(levels)
        images = shapes3d.render(np.ravel_multi_index(scenes.T, shapes3d.GRID))
        rows.append(np.concatenate([images, np.full((columns - levels, *images.shape[1:]), 255, np.uint8)]))
    save_png(grid(torch.from_numpy(np.concatenate(rows)) / 255, ncol=columns, scale=2), args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
