"""Small random affine transforms of image batches: the label-free prior behind the consistency term.

A categorical code that names a class (a digit) should not change when an image is rotated, sheared,
scaled or shifted a little, while a split of one class by its slant or size would. See
``InfoGANObjective.consistency``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

MAX_DEGREES = 15.0  # rotation
MAX_SHEAR = 0.15
MAX_SCALE = 0.1  # relative
MAX_SHIFT = 0.1  # of the image's half-width: ~1.4 px on 28x28


def random_affine(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """``x`` [N, C, H, W] with each image moved by its own random affine map (border pixels extend)."""
    n = x.shape[0]

    def uniform(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator, device=x.device) * 2 - 1

    angle = uniform(n) * math.radians(MAX_DEGREES)
    shear, scale, shift = uniform(n) * MAX_SHEAR, 1 + uniform(n) * MAX_SCALE, uniform(n, 2) * MAX_SHIFT
    cos, sin = angle.cos() / scale, angle.sin() / scale
    theta = torch.stack([torch.stack([cos, shear - sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta.to(x.dtype), list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
