"""dSprites: 737,280 binary 64 x 64 images of one white shape, every combination of five factors once.

Factors, in the official file's order (the last varies fastest): shape (square, ellipse, heart),
scale (6 values, 0.5..1), orientation (40 values, 0..2 pi, both ends included), x position and
y position (32 values each, 0..1). The images are rendered here, deterministically; the official
`dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz` is read instead when it is in --data-dir.

Differences from the official renders (which were drawn with Love2D by DeepMind): the shapes'
pixel sizes, the heart's outline and the position range were chosen here, not copied (see
docs/guide/datasets.md); positions move a shape by whole pixels, 16.5..47.5 on each axis.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from infogan.errors import DataError

OFFICIAL_FILE = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
HOME = "https://github.com/deepmind/dsprites-dataset"
SIZE = 64
SHAPES = ("square", "ellipse", "heart")
FACTOR_NAMES = ("shape", "scale", "orientation", "pos_x", "pos_y")
# The values each factor takes; shape is 1, 2, 3 as in the official latents_values.
LEVELS: tuple[tuple[float, ...], ...] = (
    (1.0, 2.0, 3.0),
    tuple(np.linspace(0.5, 1.0, 6).tolist()),
    tuple(np.linspace(0.0, 2 * math.pi, 40).tolist()),
    tuple(np.linspace(0.0, 1.0, 32).tolist()),
    tuple(np.linspace(0.0, 1.0, 32).tolist()),
)
GRID = tuple(len(v) for v in LEVELS)  # (3, 6, 40, 32, 32)
COUNT = math.prod(GRID)  # 737,280

# Geometry in pixels. A shape at position (0, 0) is centred on pixel (16, 16); each position step
# moves it one pixel, so x = 1 centres it on pixel 47. At scale 1 the square's side is _SQUARE
# pixels; the ellipse and heart are sized to look about as large.
_FIRST = 16
_SPRITE = 33  # the base canvas: a shape centred on its pixel (16, 16) must fit inside it at any rotation
_SQUARE = 18.4
_ELLIPSE = (12.1, 6.05)  # semi-axes at scale 1, the long one along x at orientation 0
_HEART = 9.4  # pixels per unit of the implicit heart curve below, at scale 1


def _inside(shape: str, u: np.ndarray, v: np.ndarray, scale: float) -> np.ndarray:
    """Whether the points (u right, v down, in pixels from the shape's centre, unrotated) are inside."""
    if shape == "square":
        half = _SQUARE * scale / 2
        return (np.abs(u) <= half) & (np.abs(v) <= half)
    if shape == "ellipse":
        a, b = _ELLIPSE[0] * scale, _ELLIPSE[1] * scale
        return (u / a) ** 2 + (v / b) ** 2 <= 1
    # (x^2 + y^2 - 1)^3 <= x^2 y^3 with y up: lobes at the top, point at the bottom; its bounding
    # box, x in [-1.14, 1.14] and y in [-1, 1.24], is centred by shifting y by 0.12.
    x = u / (_HEART * scale)
    y = -v / (_HEART * scale) + 0.118
    return (x * x + y * y - 1) ** 3 <= x * x * y**3


def sprites() -> np.ndarray:
    """The 720 base sprites, bool [3, 6, 40, _SPRITE, _SPRITE], each centred on pixel (16, 16).

    A pixel is on when its centre is inside the rotated shape, as a rasteriser without
    anti-aliasing decides; orientation turns the shape clockwise on screen (y points down).
    """
    centre = _FIRST + 0.5
    rows, cols = np.mgrid[0:_SPRITE, 0:_SPRITE] + 0.5 - centre  # pixel centres relative to the shape's centre
    out = np.zeros((*GRID[:3], _SPRITE, _SPRITE), dtype=bool)
    for k, angle in enumerate(LEVELS[2]):
        c, s = math.cos(angle), math.sin(angle)
        u, v = c * cols + s * rows, -s * cols + c * rows  # undo a clockwise-on-screen rotation
        for i, shape in enumerate(SHAPES):
            for j, scale in enumerate(LEVELS[1]):
                out[i, j, k] = _inside(shape, u, v, scale)
    # The shape must not touch the canvas edge, or moving it would cut it off.
    if out[..., 0, :].any() or out[..., -1, :].any() or out[..., :, 0].any() or out[..., :, -1].any():
        raise AssertionError("a dSprites shape does not fit its canvas")
    return out


def render(indices: np.ndarray | None = None) -> np.ndarray:
    """Images uint8 {0, 255} [N, 64, 64] of the grid `indices` (default: all 737,280, about 3 GB)."""
    indices = np.arange(COUNT) if indices is None else np.asarray(indices, dtype=np.int64)
    shape, scale, angle, x, y = np.unravel_index(indices, GRID)
    base = sprites().astype(np.uint8) * 255
    # Place each sprite on a larger canvas once; the image for (x, y) is then a 64 x 64 window of it.
    span = GRID[3] - 1
    canvas = np.zeros((*GRID[:3], SIZE + span, SIZE + span), dtype=np.uint8)
    canvas[..., span:span + _SPRITE, span:span + _SPRITE] = base
    windows = np.lib.stride_tricks.sliding_window_view(canvas, (SIZE, SIZE), axis=(3, 4))
    out = np.empty((len(indices), SIZE, SIZE), dtype=np.uint8)
    step = 65_536  # bounded temporaries
    for start in range(0, len(indices), step):
        sl = slice(start, start + step)
        out[sl] = windows[shape[sl], scale[sl], angle[sl], span - y[sl], span - x[sl]]
    return out


def classes(indices: np.ndarray) -> np.ndarray:
    """The factor classes int64 [N, 5] of grid `indices`."""
    return np.stack(np.unravel_index(np.asarray(indices, dtype=np.int64), GRID), axis=1).astype(np.int64)


def read_official(path: Path, indices: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 {0, 255} [N, 64, 64] and factor classes [N, 5] from the official .npz (never unpickled)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            if "imgs" not in npz or "latents_classes" not in npz:
                raise DataError(f"{path}: has no imgs / latents_classes arrays; use the official {OFFICIAL_FILE}")
            images, latent_classes = npz["imgs"], npz["latents_classes"]
    except FileNotFoundError:
        raise DataError(f"{path}: not found; put {OFFICIAL_FILE} (from {HOME}) there, or omit --data-dir "
                        "to render the images") from None
    except (OSError, ValueError, EOFError) as e:
        raise DataError(f"{path}: not a readable .npz ({str(e).splitlines()[0]}); download it again") from None
    if images.shape != (COUNT, SIZE, SIZE) or latent_classes.shape != (COUNT, 6):
        raise DataError(f"{path}: expected imgs [{COUNT}, 64, 64] and latents_classes [{COUNT}, 6], got "
                        f"{list(images.shape)} and {list(latent_classes.shape)}; use the official {OFFICIAL_FILE}")
    if indices is not None:
        images, latent_classes = images[indices], latent_classes[indices]
    # Column 0 is colour (always white); the official 0/1 pixels become 0/255 like every dataset here.
    images = images.astype(np.uint8, copy=False)
    images *= 255  # in place: the full set is 3 GB
    return images, latent_classes[:, 1:].astype(np.int64)
