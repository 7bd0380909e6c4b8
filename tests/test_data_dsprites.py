"""dSprites: the factor grid, the renderer's geometry and the reader of the official file."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from infogan.data import dsprites, load_dataset
from infogan.errors import DataError


def _image(shape: int, scale: int, angle: int, x: int, y: int) -> np.ndarray:
    index = np.ravel_multi_index((shape, scale, angle, x, y), dsprites.GRID)
    return dsprites.render(np.array([index]))[0]


def _centroid(image: np.ndarray) -> tuple[float, float]:
    rows, cols = np.nonzero(image)
    return rows.mean() + 0.5, cols.mean() + 0.5  # pixel centres


def test_grid_matches_the_official_latents() -> None:
    assert dsprites.GRID == (3, 6, 40, 32, 32) and dsprites.COUNT == 737_280
    assert dsprites.LEVELS[1] == pytest.approx([0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    assert dsprites.LEVELS[2][0] == 0 and dsprites.LEVELS[2][-1] == pytest.approx(2 * math.pi)
    assert dsprites.LEVELS[3][1] == pytest.approx(1 / 31) and dsprites.LEVELS[4][-1] == 1
    # The official order: y varies fastest, then x, orientation, scale, shape.
    assert dsprites.classes(np.array([0, 1, 32, 1024, 40 * 1024, 6 * 40 * 1024])).tolist() == [
        [0, 0, 0, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 1, 0], [0, 0, 1, 0, 0], [0, 1, 0, 0, 0], [1, 0, 0, 0, 0]]


def test_binary_and_positions_move_one_pixel_per_step() -> None:
    square = _image(0, 5, 0, 0, 0)
    assert set(np.unique(square)) == {0, 255}
    assert _centroid(square) == pytest.approx((16.5, 16.5))  # posX = posY = 0
    assert _centroid(_image(0, 5, 0, 31, 0)) == pytest.approx((16.5, 47.5))  # x moves along columns
    assert _centroid(_image(0, 5, 0, 0, 31)) == pytest.approx((47.5, 16.5))  # y moves down the rows
    s, sc, a, x, y = (np.random.default_rng(0).integers(n, size=50) for n in (3, 6, 40, 31, 31))
    here, right, down = (dsprites.render(np.ravel_multi_index(f, dsprites.GRID))
                         for f in ((s, sc, a, x, y), (s, sc, a, x + 1, y), (s, sc, a, x, y + 1)))
    assert here.any(axis=(1, 2)).all()
    assert not (here[:, 0].any() or here[:, -1].any() or here[:, :, 0].any() or here[:, :, -1].any())
    assert np.array_equal(right[:, :, 1:], here[:, :, :-1]) and not right[:, :, 0].any()
    assert np.array_equal(down[:, 1:], here[:, :-1]) and not down[:, 0].any()


def test_scale_and_orientation() -> None:
    areas = dsprites.sprites().sum(axis=(-1, -2)).astype(float)  # [shape, scale, orientation]
    assert (np.diff(areas, axis=1) > 0).all()  # bigger at every step of scale
    assert areas[:, -1] / areas[:, 0] == pytest.approx(np.full((3, 40), 4.0), rel=0.15)  # area ~ scale^2
    assert areas.max(axis=2) / areas.min(axis=2) == pytest.approx(np.ones((3, 6)), abs=0.2)  # rotation keeps area
    assert np.array_equal(_image(2, 5, 0, 10, 10), _image(2, 5, 39, 10, 10))  # 0 and 2 pi, as in the official set
    # Orientation turns clockwise on screen: the ellipse's long axis, along x at 0, then runs down to the right.
    rows, cols = np.nonzero(_image(1, 5, 4, 15, 15))
    assert np.cov(cols, rows)[0, 1] > 0
    rows, cols = np.nonzero(_image(1, 5, 0, 15, 15))
    assert np.ptp(cols) > 1.8 * np.ptp(rows)


def test_the_heart_is_upright_with_two_lobes_and_a_point() -> None:
    heart = _image(2, 5, 0, 15, 15) > 0
    rows = np.nonzero(heart.any(axis=1))[0]
    widths = heart.sum(axis=1)[rows]
    assert widths.argmax() < len(rows) / 2  # widest in the upper half
    assert widths[-1] <= 3  # the point at the bottom
    top = heart[rows[1]] > 0
    runs = np.count_nonzero(np.diff(top.astype(int)) == 1) + int(top[0])
    assert runs == 2  # two lobes at the top


def test_mean_intensity_matches_the_official_set() -> None:
    """0.043 is the mean pixel of the official dSprites (published dataset statistics)."""
    sample = dsprites.render(np.arange(0, dsprites.COUNT, 101))
    assert sample.mean() / 255 == pytest.approx(0.043, abs=0.002)


def test_load_subset_with_factors() -> None:
    data = load_dataset("dsprites:n=300")
    assert len(data) == 300 and data.shape == (1, 64, 64) and data.factors is not None
    assert data.factors.names == ("shape", "scale", "orientation", "pos_x", "pos_y")
    classes = data.factors.classes.numpy()
    indices = np.ravel_multi_index(tuple(classes.T), dsprites.GRID)
    assert np.all(np.diff(indices) > 0)  # distinct, in dataset order
    assert torch.equal(data.images[:, 0], torch.from_numpy(dsprites.render(indices)))
    assert torch.equal(data.labels, data.factors.classes[:, 0])
    values = data.factors.values
    assert values[:, 0].tolist() == (classes[:, 0] + 1).tolist() and values[:, 1].min() >= 0.5
    assert torch.equal(load_dataset("dsprites", n=300).factors.classes, data.factors.classes)  # same subset
    with pytest.raises(DataError, match="no test split"):
        load_dataset("dsprites:n=10", split="test")


def _official(path: Path, count: int, imgs: np.ndarray | None = None) -> np.ndarray:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 2, (count, 64, 64), dtype=np.uint8) if imgs is None else imgs
    classes = np.concatenate([np.zeros((count, 1), np.int64), rng.integers(0, 3, (count, 5))], axis=1)
    metadata = np.array({"description": "pickled, must never be loaded"}, dtype=object)
    np.savez(path, imgs=images, latents_classes=classes, latents_values=classes.astype(float), metadata=metadata)
    return classes


def test_reads_the_official_file_without_unpickling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dsprites, "COUNT", 8)  # a small file in the official layout
    classes = _official(tmp_path / dsprites.OFFICIAL_FILE, 8)
    data = load_dataset("dsprites", tmp_path)
    with np.load(tmp_path / dsprites.OFFICIAL_FILE, allow_pickle=True) as npz:
        assert torch.equal(data.images[:, 0], torch.from_numpy(npz["imgs"] * 255))
    assert data.factors.classes.tolist() == classes[:, 1:].tolist()
    assert len(load_dataset("dsprites:n=3", tmp_path)) == 3


def test_official_file_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DataError, match="omit --data-dir to render"):
        load_dataset("dsprites", tmp_path)
    monkeypatch.setattr(dsprites, "COUNT", 4)
    _official(tmp_path / dsprites.OFFICIAL_FILE, 4, imgs=np.array([None] * 4, dtype=object))
    with pytest.raises(DataError, match="not a readable .npz"):  # an object array would need unpickling
        load_dataset("dsprites", tmp_path)
    _official(tmp_path / dsprites.OFFICIAL_FILE, 3)
    with pytest.raises(DataError, match=r"expected imgs \[4, 64, 64\]"):
        load_dataset("dsprites", tmp_path)
