"""3D shapes: 480,000 RGB 64 x 64 images of one object on a floor before a wall, every combination of six factors once.

Factors, in the order of DeepMind's 3dshapes (the last varies fastest): floor_hue, wall_hue and object_hue
(10 values each, 0..0.9, the hue of a fully saturated colour), scale (8 values, 0.75..1.25, the object's size),
shape (0 cube, 1 cylinder, 2 sphere, 3 capsule) and orientation (15 values, -30..30 degrees, the object's turn
about the vertical axis through its centre; a positive turn brings its right side towards the camera).

Rendering: a fixed pinhole camera looks slightly down at the object, which stands on an endless floor in front of
a back wall. Rays are cast analytically in numpy, 3 x 3 per pixel for anti-aliasing. One directional light from
the upper left front lights every surface (ambient plus Lambertian diffuse), so the cube's faces differ in
brightness, and the object casts a soft shadow: the light is a small disc, sampled in 16 directions. The light
does not depend on hue, so each of the 480 (scale, shape, orientation) geometries is traced once, into three
grey layers (the light that the floor, the wall and the object send into each pixel), and an image is the sum
of its three layers, each tinted by its hue.

Differences from DeepMind's 3dshapes (https://github.com/deepmind/3d-shapes; its file cannot be fetched here, so
these images were never compared with it): the factors and their values are the same, but the scene, sizes, light
and colours were chosen here, so the images differ pixel for pixel. Orientation turns the object alone, so the
floor and wall never move with it and a sphere looks the same at every orientation; the cylinder and the capsule
lie on their side so that their turn shows; the room is a floor and one back wall.
"""

from __future__ import annotations

import colorsys
import math
from functools import cache

import numpy as np

HOME = "https://github.com/deepmind/3d-shapes"
SIZE = 64
SHAPES = ("cube", "cylinder", "sphere", "capsule")
FACTOR_NAMES = ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
# The values each factor takes, those of 3dshapes' labels: shape is 0..3, orientation in degrees.
LEVELS: tuple[tuple[float, ...], ...] = (
    tuple(np.linspace(0.0, 0.9, 10).tolist()),
    tuple(np.linspace(0.0, 0.9, 10).tolist()),
    tuple(np.linspace(0.0, 0.9, 10).tolist()),
    tuple(np.linspace(0.75, 1.25, 8).tolist()),
    (0.0, 1.0, 2.0, 3.0),
    tuple(np.linspace(-30.0, 30.0, 15).tolist()),
)
GRID = tuple(len(v) for v in LEVELS)  # (10, 10, 10, 8, 4, 15)
COUNT = math.prod(GRID)  # 480,000

# The scene, in world units: x to the right, y up, z away from the camera. The floor is y = 0, the wall z = _WALL;
# the object stands on the floor around the vertical axis x = z = 0.
_EYE = np.array([0.0, 2.4, -5.0])
_TARGET = np.array([0.0, 0.5, 0.0])
_FOV = math.radians(32)  # across and down; the largest object, turned, spans columns 11..52 and rows 13..49
_WALL = 3.0
_SUB = 3  # rays per pixel along each axis
_AMBIENT, _DIFFUSE = 0.3, 0.7  # sum to 1, so no pixel is brighter than its hue
_LIGHT = np.array([-0.55, 1.0, -0.45]) / np.linalg.norm([-0.55, 1.0, -0.45])  # towards the light
_PENUMBRA = math.radians(6)  # angular radius of the light's disc
_SHADOW_RAYS = 16

# The shapes at scale 1, resting on y = 0: the cube's half side; the sphere's radius; the lying cylinder's and
# capsule's radius and half length along x (the capsule's between the centres of its end caps).
_CUBE = 0.5
_SPHERE = 0.55
_CYLINDER = (0.4, 0.55)
_CAPSULE = (0.35, 0.45)


_RGB = np.array([colorsys.hsv_to_rgb(h, 1.0, 1.0) for h in LEVELS[0]], dtype=np.float32)  # each hue's colour [10, 3]


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _camera_rays() -> np.ndarray:
    """The rays' unit directions from _EYE, [SIZE * _SUB * SIZE * _SUB, 3], in the order (row, sub-row, column,
    sub-column) of the image."""
    forward = _unit(_TARGET - _EYE)
    right = _unit(np.cross([0.0, 1.0, 0.0], forward))
    up = np.cross(forward, right)
    steps = (np.arange(SIZE * _SUB) + 0.5) / (SIZE * _SUB) * 2 - 1  # sub-pixel centres, -1..1
    half = math.tan(_FOV / 2)
    v, u = np.meshgrid(-steps * half, steps * half, indexing="ij")
    return _unit(forward + u[..., None] * right + v[..., None] * up).reshape(-1, 3)


def _light_rays() -> np.ndarray:
    """_SHADOW_RAYS directions spread evenly over the light's disc (a sunflower pattern), [_SHADOW_RAYS, 3]."""
    k = np.arange(_SHADOW_RAYS)
    radius = _PENUMBRA * np.sqrt((k + 0.5) / _SHADOW_RAYS)
    angle = k * math.pi * (3 - math.sqrt(5))
    side = _unit(np.cross(_LIGHT, [0.0, 0.0, 1.0]))
    other = np.cross(_LIGHT, side)
    offsets = np.tan(radius)[:, None] * (np.cos(angle)[:, None] * side + np.sin(angle)[:, None] * other)
    return _unit(_LIGHT + offsets)


@cache
def _background() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The camera rays' directions and, per ray, the distance to the floor or wall, whether it is the floor,
    the point hit and the light it sends back unshadowed."""
    rays = _camera_rays()
    with np.errstate(divide="ignore"):
        t_floor = np.where(rays[:, 1] < 0, -_EYE[1] / rays[:, 1], np.inf)
        t_wall = np.where(rays[:, 2] > 0, (_WALL - _EYE[2]) / rays[:, 2], np.inf)
    floor = t_floor < t_wall
    t = np.minimum(t_floor, t_wall)
    light = np.where(floor, _LIGHT[1], -_LIGHT[2])  # n . L with the floor's normal +y and the wall's -z
    return rays, t, floor, _EYE + t[:, None] * rays, _AMBIENT + _DIFFUSE * np.maximum(light, 0)


def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise dot products of [M, 3] arrays (einsum: a sum over a short last axis is slow in numpy)."""
    return np.einsum("ij,ij->i", a, b)


# Ray-primitive intersections in the object's frame. Each takes ray origins and directions [M, 3] and gives the
# distance to where the ray enters the primitive (inf where it misses or the primitive lies behind) and the
# outward unit normal there [M, 3]. The shapes are convex unions, so the nearest entry of any part is the shape's.
Hit = tuple[np.ndarray, np.ndarray]


def _nearest(*hits: Hit) -> Hit:
    t = np.stack([h[0] for h in hits])
    first = t.argmin(axis=0)
    rows = np.arange(t.shape[1])
    return t[first, rows], np.stack([h[1] for h in hits])[first, rows]


def _box(o: np.ndarray, d: np.ndarray, half: float) -> Hit:
    lo, hi = np.array([-half, 0.0, -half]), np.array([half, 2 * half, half])
    d = np.where(d == 0, 1e-12, d)  # a ray parallel to a face: a huge but finite slab distance
    t1, t2 = (lo - o) / d, (hi - o) / d
    near, far = np.minimum(t1, t2), np.maximum(t1, t2)
    t_in, t_out = near.max(axis=1), far.min(axis=1)
    axis = near.argmax(axis=1)
    normal = np.zeros_like(o)
    normal[np.arange(len(o)), axis] = -np.sign(d[np.arange(len(o)), axis])
    return np.where((t_in <= t_out) & (t_in > 0), t_in, np.inf), normal


def _sphere(o: np.ndarray, d: np.ndarray, centre: np.ndarray, r: float) -> Hit:
    oc = o - centre
    a, b, c = _dot(d, d), _dot(oc, d), _dot(oc, oc) - r * r
    disc = b * b - a * c
    t = (-b - np.sqrt(np.maximum(disc, 0))) / a
    t = np.where((disc >= 0) & (t > 0), t, np.inf)
    return t, (oc + np.where(np.isfinite(t), t, 0)[:, None] * d) / r


def _tube(o: np.ndarray, d: np.ndarray, r: float, half: float) -> Hit:
    """The side of a cylinder of radius r lying along x at height r, from x = -half to half."""
    oy, oz, dy, dz = o[:, 1] - r, o[:, 2], d[:, 1], d[:, 2]
    a, b, c = dy * dy + dz * dz, oy * dy + oz * dz, oy * oy + oz * oz - r * r
    disc = b * b - a * c
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (-b - np.sqrt(np.maximum(disc, 0))) / a
    x = o[:, 0] + t * d[:, 0]
    t = np.where((disc >= 0) & (t > 0) & (np.abs(x) <= half), t, np.inf)
    tt = np.where(np.isfinite(t), t, 0)
    normal = np.stack([np.zeros_like(t), oy + tt * dy, oz + tt * dz], axis=1) / r
    return t, normal


def _disc(o: np.ndarray, d: np.ndarray, r: float, x: float) -> Hit:
    """The flat end at x of a cylinder of radius r lying along x at height r."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (x - o[:, 0]) / d[:, 0]
    y, z = o[:, 1] + t * d[:, 1] - r, o[:, 2] + t * d[:, 2]
    t = np.where((t > 0) & (y * y + z * z <= r * r), t, np.inf)
    normal = np.zeros_like(o)
    normal[:, 0] = math.copysign(1.0, x)
    return t, normal


def _hit(shape: int, o: np.ndarray, d: np.ndarray) -> Hit:
    """Where rays (in the object's frame, at scale 1) enter shape `shape`."""
    name = SHAPES[shape]
    if name == "cube":
        return _box(o, d, _CUBE)
    if name == "sphere":
        return _sphere(o, d, np.array([0.0, _SPHERE, 0.0]), _SPHERE)
    if name == "cylinder":
        r, half = _CYLINDER
        return _nearest(_tube(o, d, r, half), _disc(o, d, r, half), _disc(o, d, r, -half))
    r, half = _CAPSULE
    return _nearest(_tube(o, d, r, half), _sphere(o, d, np.array([-half, r, 0.0]), r),
                    _sphere(o, d, np.array([half, r, 0.0]), r))


def _bound(shape: int) -> tuple[float, float]:
    """The height of the centre and the radius of a sphere around shape `shape` at scale 1."""
    name = SHAPES[shape]
    if name == "cube":
        return _CUBE, _CUBE * math.sqrt(3)
    if name == "sphere":
        return _SPHERE, _SPHERE
    if name == "cylinder":
        r, half = _CYLINDER
        return r, math.hypot(r, half)
    r, half = _CAPSULE
    return r, r + half


@cache
def _layers(scale: int, shape: int, orientation: int) -> np.ndarray:
    """The light from the floor, the wall and the object into each pixel, times 255: float32 [3, SIZE * SIZE]."""
    s, angle = LEVELS[3][scale], math.radians(LEVELS[5][orientation])
    # Into the object's frame: undo the turn (positive brings +x towards the camera, -z) and the scale.
    c, si = math.cos(angle), math.sin(angle)
    to_object = np.array([[c, 0.0, si], [0.0, 1.0, 0.0], [-si, 0.0, c]]) / s  # row vectors: p_obj = p @ to_object

    def hit(o: np.ndarray, d: np.ndarray) -> Hit:
        t, normal = _hit(shape, o @ to_object, d @ to_object)
        return t, normal @ (to_object.T * s)  # back to the world frame; a rotation, so normals stay unit

    rays, t_bg, floor, points, bg_light = _background()
    height, radius = _bound(shape)
    centre, radius = np.array([0.0, height * s, 0.0]), radius * s
    # Only rays that pass near the object's bounding sphere are traced to it.
    w = centre - _EYE
    along = rays @ w
    near = np.flatnonzero(w @ w - along * along < radius * radius)
    t_obj, normal = hit(np.broadcast_to(_EYE, (len(near), 3)), rays[near])
    front = t_obj < t_bg[near]
    on_object = np.zeros(len(rays), dtype=bool)
    on_object[near[front]] = True
    obj_light = np.zeros(len(rays))
    obj_light[near[front]] = _AMBIENT + _DIFFUSE * np.maximum(normal[front] @ _LIGHT, 0)

    # The soft shadow: the share of the light's disc that the object hides from each background point, tracing
    # only the (point, light direction) pairs that pass near the bounding sphere. A first cut uses the disc's
    # centre: a ray within _PENUMBRA of it passes at most |w| _PENUMBRA further from the sphere's centre.
    w = centre - points
    square = _dot(w, w)
    along = w @ _LIGHT
    maybe = np.flatnonzero(~on_object & (square - along * along < (radius + np.sqrt(square) * _PENUMBRA) ** 2))
    lights = _light_rays()
    along = w[maybe] @ lights.T  # [points, _SHADOW_RAYS]
    pair = (square[maybe, None] - along * along < radius * radius) & (along > -radius)
    point, light = np.nonzero(pair)
    blocked, _ = hit(points[maybe[point]], lights[light])
    hidden = np.bincount(maybe[point], weights=np.isfinite(blocked), minlength=len(rays))
    lit = _AMBIENT + (bg_light - _AMBIENT) * (1 - hidden / _SHADOW_RAYS)

    layers = np.stack([np.where(~on_object & floor, lit, 0), np.where(~on_object & ~floor, lit, 0), obj_light])
    pixels = layers.reshape(3, SIZE, _SUB, SIZE, _SUB).mean(axis=(2, 4))  # the supersampled rays' average
    return (pixels * 255).astype(np.float32).reshape(3, SIZE * SIZE)


def render(indices: np.ndarray | None = None) -> np.ndarray:
    """Images uint8 [N, 3, 64, 64] of the grid `indices` (default: all 480,000, about 5.9 GB)."""
    indices = np.arange(COUNT) if indices is None else np.asarray(indices, dtype=np.int64)
    floor, wall, obj, scale, shape, orientation = np.unravel_index(indices, GRID)
    colours = np.stack([_RGB[floor], _RGB[wall], _RGB[obj]], axis=2)  # [N, channel, surface]
    geometry = np.ravel_multi_index((scale, shape, orientation), GRID[3:])
    out = np.empty((len(indices), 3, SIZE * SIZE), dtype=np.uint8)
    # Images of one geometry differ only in their colours [channel, surface], times its layers [surface, pixel].
    # einsum rather than matmul: a product over 3 surfaces gains nothing from BLAS threads, which only fight a busy
    # CPU; and a few images at a time, so the float temporaries stay in cache.
    order = np.argsort(geometry, kind="stable")
    runs = geometry[order]
    starts = np.flatnonzero(np.diff(runs, prepend=-1))
    for begin, end in zip(starts, [*starts[1:], len(order)]):
        layers = _layers(*map(int, np.unravel_index(runs[begin], GRID[3:])))
        for start in range(begin, end, 64):
            part = order[start:min(start + 64, end)]
            pixels = np.einsum("ncs,sp->ncp", colours[part], layers)
            pixels += 0.5
            out[part] = pixels  # the cast to uint8 truncates, so this rounds
    return out.reshape(len(indices), 3, SIZE, SIZE)


def classes(indices: np.ndarray) -> np.ndarray:
    """The factor classes int64 [N, 6] of grid `indices`."""
    return np.stack(np.unravel_index(np.asarray(indices, dtype=np.int64), GRID), axis=1).astype(np.int64)
