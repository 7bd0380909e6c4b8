"""3D shapes: the factor grid, what each factor changes in the rendered scene, and the loader."""

from __future__ import annotations

import colorsys

import numpy as np
import pytest
import torch

from infogan.data import load_dataset, shapes3d
from infogan.errors import DataError

FLOOR, WALL, OBJECT, SCALE, SHAPE, ORIENTATION = range(6)
BASE = (1, 6, 3, 4, 0, 10)  # orange floor, blue wall, green cube, middle scale, turned 12.9 degrees


def _render(*scenes: tuple[int, ...]) -> np.ndarray:
    """Images int [N, 3, 64, 64] of the scenes given as factor classes."""
    return shapes3d.render(np.ravel_multi_index(np.array(scenes).T, shapes3d.GRID)).astype(int)


def _with(scene: tuple[int, ...], **changes: int) -> tuple[int, ...]:
    names = shapes3d.FACTOR_NAMES
    return tuple(changes.get(name, value) for name, value in zip(names, scene, strict=True))


def _changed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The pixels [64, 64] where two images differ in any channel."""
    return (a != b).any(axis=0)


def _surfaces(scene: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The floor, wall and object pixels of a scene: those that change with that surface's hue."""
    base, *others = _render(scene, *(_with(scene, **{name: (scene[f] + 5) % 10})
                                     for f, name in enumerate(shapes3d.FACTOR_NAMES[:3])))
    floor, wall, obj = (_changed(base, other) for other in others)
    return floor, wall, obj


def _interior(mask: np.ndarray) -> np.ndarray:
    """The pixels of `mask` whose eight neighbours are in it too: away from its anti-aliased edge."""
    padded = np.pad(mask, 1)
    return np.all([padded[1 + dr:65 + dr, 1 + dc:65 + dc] for dr in (-1, 0, 1) for dc in (-1, 0, 1)], axis=0)


def _chroma(image: np.ndarray) -> np.ndarray:
    """Colour with the brightness divided out, [3, 64, 64]: the hue's RGB wherever one surface fills the pixel."""
    return image / np.maximum(image.max(axis=0), 1)


def _hue(level: int) -> np.ndarray:
    """The RGB, in [0, 1], of hue level `level` at full saturation and value."""
    return np.array(colorsys.hsv_to_rgb(shapes3d.LEVELS[FLOOR][level], 1.0, 1.0))


def test_grid_matches_3dshapes_labels() -> None:
    assert shapes3d.GRID == (10, 10, 10, 8, 4, 15) and shapes3d.COUNT == 480_000
    assert shapes3d.LEVELS[FLOOR] == pytest.approx([0.1 * k for k in range(10)])
    assert shapes3d.LEVELS[SCALE][0] == 0.75 and shapes3d.LEVELS[SCALE][-1] == 1.25
    assert shapes3d.LEVELS[SHAPE] == (0.0, 1.0, 2.0, 3.0)
    assert shapes3d.LEVELS[ORIENTATION][0] == -30 and shapes3d.LEVELS[ORIENTATION][7] == pytest.approx(0)
    # 3dshapes' order: orientation varies fastest, then shape, scale, object, wall and floor hue.
    assert shapes3d.classes(np.array([1, 15, 60, 480, 4_800, 48_000])).tolist() == np.eye(6, dtype=int)[::-1].tolist()


def test_render_is_rgb_deterministic_and_per_image() -> None:
    indices = np.random.default_rng(0).choice(shapes3d.COUNT, 40, replace=False)
    images = shapes3d.render(indices)
    assert images.shape == (40, 3, 64, 64) and images.dtype == np.uint8
    assert np.array_equal(shapes3d.render(indices[::-1]), images[::-1])  # an image does not depend on its batch
    assert np.array_equal(shapes3d.render(indices[5:6]), images[5:6])
    shapes3d._layers.cache_clear()
    assert np.array_equal(shapes3d.render(indices), images)  # traced again: the same bytes
    assert shapes3d.render(np.array([], dtype=np.int64)).shape == (0, 3, 64, 64)


@pytest.mark.parametrize("shape", range(4))
def test_each_hue_colours_only_its_surface(shape: int) -> None:
    scene = _with(BASE, shape=shape)
    floor, wall, obj = _surfaces(scene)
    assert (floor | wall | obj).all()  # every pixel shows some surface
    # The floor lies below the wall; the two share at most the one anti-aliased row where they meet.
    assert np.flatnonzero(wall.any(axis=1)).max() <= np.flatnonzero(floor.any(axis=1)).min() + 1
    assert np.unique(np.nonzero(floor & wall)[0]).size <= 1
    inner = _interior(obj)
    assert inner.sum() > 100 and not (inner & (floor | wall)).any()  # floor and wall hues stop at its edge
    assert (obj & (floor | wall)).any()  # edge pixels mix the object with what is behind it: anti-aliasing
    # Where one surface fills a pixel, its colour is that surface's hue; only the light's brightness varies.
    chroma = _chroma(_render(scene)[0])
    for mask, level in ((_interior(floor & ~obj), scene[FLOOR]), (_interior(wall & ~obj), scene[WALL]),
                        (inner, scene[OBJECT])):
        assert np.abs(chroma[:, mask] - _hue(level)[:, None]).max() < 0.03
    # The object's hue does not move its outline.
    floor_again, _, obj_again = _surfaces(_with(scene, object_hue=scene[OBJECT] + 2))
    assert (obj ^ obj_again).sum() <= 2 and (floor ^ floor_again).sum() <= 2


def test_scale_grows_the_object_and_changes_no_hue() -> None:
    for shape in range(4):
        areas = [_surfaces(_with(BASE, shape=shape, scale=k))[2].sum() for k in range(8)]
        assert np.all(np.diff(areas) > 0) and areas[-1] / areas[0] > 2  # area ~ scale^2: (1.25 / 0.75)^2 = 2.8
    small, large = _render(_with(BASE, scale=0), _with(BASE, scale=7))
    outside = _interior(~_surfaces(_with(BASE, scale=7))[2])  # background in both images
    assert np.abs(_chroma(small) - _chroma(large))[:, outside].max() < 0.03  # only the shadow's brightness moved


def test_orientation_turns_the_object_and_not_the_sphere() -> None:
    spheres = _render(*(_with(BASE, shape=2, orientation=k) for k in range(15)))
    assert (spheres == spheres[0]).all()  # symmetric about the vertical axis it turns around
    cubes = _render(*(_with(BASE, orientation=k) for k in range(15)))
    assert all(_changed(a, b).sum() > 100 for a, b in zip(cubes[:-1], cubes[1:]))
    for k in range(15):  # the cube's faces keep their hue at every turn
        inner = _interior(_surfaces(_with(BASE, orientation=k))[2])
        assert np.abs(_chroma(cubes[k])[:, inner] - _hue(BASE[OBJECT])[:, None]).max() < 0.03
    # The camera looks along the object's mirror plane: turning either way gives mirrored outlines.
    for k in range(1, 8):
        left, right = (_surfaces(_with(BASE, orientation=7 + sign * k))[2] for sign in (-1, 1))
        assert (left ^ right[:, ::-1]).sum() <= 2
    # A positive turn brings the right side nearer the camera, so lower in the image: the capsule slopes down to it.
    for orientation, sign in ((0, -1), (14, 1)):
        rows, cols = np.nonzero(_surfaces(_with(BASE, shape=3, orientation=orientation))[2])
        assert np.sign(np.cov(cols, rows)[0, 1]) == sign


def test_shapes_differ_in_outline() -> None:
    masks = [_surfaces(_with(BASE, shape=shape, orientation=7))[2] for shape in range(4)]
    assert all((masks[i] ^ masks[j]).sum() > 40 for i in range(4) for j in range(i + 1, 4))


def test_light_shades_the_cube_faces_and_casts_a_soft_shadow() -> None:
    scene = _with(BASE, orientation=0)  # turned -30 degrees: top, front and left faces in view
    brightness = _render(scene)[0].max(axis=0)
    faces = np.unique(brightness[_interior(_surfaces(scene)[2])] // 16, return_counts=True)[1]
    assert (faces >= 10).sum() >= 3  # three faces, each with its own brightness
    scene = _with(BASE, shape=2)
    floor, _, obj = _surfaces(scene)
    brightness = _render(scene)[0].max(axis=0)
    ground = _interior(floor & ~obj)
    lit = np.median(brightness[ground])
    shadow = ground & (brightness < lit - 5)
    darkest = brightness[shadow].min()
    assert darkest < 0.6 * lit
    assert (shadow & (brightness > darkest + 5)).sum() >= shadow.sum() / 2  # soft: mostly half-lit penumbra
    assert np.nonzero(shadow)[1].mean() > np.nonzero(obj)[1].mean()  # on the far side from the light, on the left


def test_load_subset_with_factors() -> None:
    data = load_dataset("shapes3d:n=64")
    assert len(data) == 64 and data.shape == (3, 64, 64) and data.factors is not None
    assert data.factors.names == shapes3d.FACTOR_NAMES
    classes = data.factors.classes.numpy()
    indices = np.ravel_multi_index(tuple(classes.T), shapes3d.GRID)
    assert np.all(np.diff(indices) > 0)  # distinct, in dataset order
    assert torch.equal(data.images, torch.from_numpy(shapes3d.render(indices)))
    assert torch.equal(data.labels, data.factors.classes[:, SHAPE])
    values = data.factors.values
    assert values[:, ORIENTATION].abs().max() <= 30 and values[:, SCALE].min() >= 0.75
    assert torch.equal(load_dataset("shapes3d", n=64).factors.classes, data.factors.classes)  # same subset
    with pytest.raises(DataError, match="no test split"):
        load_dataset("shapes3d:n=10", split="test")
    with pytest.raises(DataError, match="omit --data-dir"):
        load_dataset("shapes3d:n=10", "somewhere")
