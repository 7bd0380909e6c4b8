"""Small random affine transforms of image batches: the label-free prior behind the consistency term.

A categorical code that names a class (a digit) should not change when an image is rotated, sheared,
scaled or shifted a little, while a split of one class by its slant or size would. See
``InfoGANObjective.consistency``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Moves:
    """The largest move of each kind; each image draws its own, uniformly within them."""

    degrees: float = 15.0  # rotation
    shear: float = 0.15
    scale: float = 0.1  # relative
    shift: float = 0.1  # of the image's half-width: ~1.4 px on 28x28


# The moves of the label-free stability score (infogan.metrics.stability), fixed so that scores stay comparable
# across runs and configs; the consistency term takes its own from the config (loss.consistency_degrees, ...).
SMALL = Moves()


def random_affine(x: torch.Tensor, generator: torch.Generator, moves: Moves = SMALL) -> torch.Tensor:
    """``x`` [N, C, H, W] with each image moved by its own random affine map (border pixels extend)."""
    n = x.shape[0]

    def uniform(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator, device=x.device) * 2 - 1

    angle = uniform(n) * math.radians(moves.degrees)
    shear, scale, shift = uniform(n) * moves.shear, 1 + uniform(n) * moves.scale, uniform(n, 2) * moves.shift
    cos, sin = angle.cos() / scale, angle.sin() / scale
    theta = torch.stack([torch.stack([cos, shear - sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
