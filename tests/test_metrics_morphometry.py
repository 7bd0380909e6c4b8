"""Morphometry on real digits whose true change is known, and code effects read along traversals."""

import numpy as np
import pytest
import torch
from scipy import ndimage
from torch import nn

from infogan.data.bundled import load_bundled
from infogan.metrics.morphometry import (MEASURES, code_effects, effect_from_traversal, morphometry, pair_codes,
                                         reference_effects, row_spearman)
from infogan.model import InfoGAN


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    images, _ = load_bundled()
    return images[np.random.default_rng(0).choice(len(images), 300, replace=False)]


def _warp(images: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """Each image resampled through ``matrix`` (output (row, col) -> input) about its centre."""
    centre = np.array([13.5, 13.5])
    offset = centre - matrix @ centre
    return np.stack([ndimage.affine_transform(im.astype(np.float32) / 255, matrix, offset, order=1) for im in images])


def test_a_shear_moves_the_slant_by_that_shear(digits):
    before = morphometry(digits)
    for shear in (-0.25, 0.25):
        # Output column c reads input column c - shear * (13.5 - row): the top moves right for a positive shear.
        after = morphometry(_warp(digits, np.array([[1.0, 0.0], [shear, 1.0]])))
        moved = np.tan(np.radians(after["slant"])) - np.tan(np.radians(before["slant"]))
        assert np.median(moved) == pytest.approx(shear, abs=0.02)
        assert np.mean(np.sign(moved) == np.sign(shear)) > 0.95


def test_dilation_thickens_and_erosion_thins(digits):
    before = morphometry(digits)["thickness"]
    thicker = morphometry(np.stack([ndimage.grey_dilation(d, size=(2, 2)) for d in digits]))["thickness"]
    thinner = morphometry(np.stack([ndimage.grey_erosion(d, size=(2, 2)) for d in digits]))["thickness"]
    ok = ~np.isnan(thinner)
    assert np.mean(thicker > before) > 0.95 and np.median(thicker - before) > 0.7
    assert np.mean(thinner[ok] < before[ok]) > 0.95 and np.median(thinner[ok] - before[ok]) < -0.7


def test_a_horizontal_scale_changes_the_width_and_not_the_height(digits):
    before = morphometry(digits)
    after = morphometry(_warp(digits, np.array([[1.0, 0.0], [0.0, 1 / 0.75]])))  # 0.75 as wide
    assert np.median(after["width"] / before["width"]) == pytest.approx(0.75, abs=0.05)
    assert np.median(after["height"] / before["height"]) == pytest.approx(1.0, abs=0.02)
    assert np.median(after["area"] / before["area"]) == pytest.approx(0.75, abs=0.05)


def test_pure_factors_move_other_measures_but_not_each_others(digits):
    ref = reference_effects(digits[:100])
    slant, width = ref["slant"], ref["width"]
    assert slant.dominant == "slant" and slant.rho["slant"] > 0.99
    assert width.rho["width"] > 0.99 and width.rho["area"] > 0.9  # a wider digit has more ink
    assert slant.other > 0.3 and width.other > 0.9  # so even a pure factor fails a next |rho| <= 0.3
    assert abs(slant.rho["width"]) < 0.1 and abs(width.rho["slant"]) < 0.1  # but it leaves the other factor alone
    pairing = pair_codes({name: e.rho for name, e in ref.items()})
    assert pairing.measures == {"slant": "slant", "width": "width"}
    assert pairing.own > 0.99 and pairing.cross < 0.1


def test_pairing_matches_codes_to_the_measures_they_move_and_reads_rotated_codes():
    rho = {"c1": {"slant": 0.98, "width": 0.1, "area": 0.2}, "c2": {"slant": -0.1, "width": -0.95, "area": -0.9}}
    p = pair_codes(rho)
    assert p.measures == {"c1": "slant", "c2": "width"} and p.own == 0.95 and p.cross == pytest.approx(0.1)
    rotated = {"c1": {"slant": 0.99, "width": 0.3}, "c2": {"slant": 0.96, "width": -0.38}}  # both codes move slant
    p = pair_codes(rotated)
    assert p.measures == {"c1": "slant", "c2": "width"} and p.own == 0.38 and p.cross == 0.96
    assert pair_codes({"c1": rho["c1"]}) is None
    assert pair_codes({"c1": {"slant": 0.9, "area": np.nan}, "c2": {"slant": 0.1, "area": np.nan}}) is None


def test_measures_of_a_drawn_bar_and_of_blank_images():
    bar = np.zeros((1, 28, 28), np.uint8)
    bar[0, 4:24, 12:16] = 255  # an upright bar: 4 wide, 20 high
    m = morphometry(bar)
    assert m["slant"][0] == pytest.approx(0.0, abs=1e-6)
    assert m["width"][0] == pytest.approx(4, abs=0.5) and m["height"][0] == pytest.approx(20, abs=0.5)
    assert m["thickness"][0] == pytest.approx(4, abs=1) and m["area"][0] == pytest.approx(80, rel=0.1)
    blank = morphometry(np.zeros((2, 1, 28, 28), np.float32))
    assert set(blank) == set(MEASURES) and all(np.isnan(v).all() for v in blank.values())


def test_row_spearman_reads_monotone_rows_and_ignores_bad_ones():
    rng = np.random.default_rng(0)
    rising = np.sort(rng.random((50, 9)), axis=1)
    assert row_spearman(rising) == pytest.approx(1.0)
    assert row_spearman(-rising) == pytest.approx(-1.0)
    assert row_spearman(np.ones((5, 9))) == 0.0  # a code that changes nothing
    with_nan = np.vstack([rising, np.full((1, 9), np.nan)])
    assert row_spearman(with_nan) == pytest.approx(1.0)
    assert abs(row_spearman(rng.random((2000, 9)))) < 0.03


def test_the_dominant_measure_and_the_next_largest():
    rising = np.tile(np.arange(9.0), (10, 1))
    measures = {"thickness": rising * 0, "slant": rising, "width": -rising + np.eye(10, 9) * 100,
                "height": rising * 0, "area": rising * 0}
    e = effect_from_traversal(measures, digit_kept=0.9, identity_kept=None)
    assert e.dominant == "slant" and e.rho["slant"] == pytest.approx(1.0)
    assert e.other == pytest.approx(abs(e.rho["width"])) and 0.5 < e.other < 1.0
    assert (e.rows, e.steps) == (10, 9)


class _Bar(nn.Module):
    """A generator that draws a bar whose slant follows c1 and whose thickness follows c2 (other inputs ignored)."""

    def __init__(self, c1: int, c2: int):
        super().__init__()
        self.c1, self.c2 = c1, c2
        self.unused = nn.Parameter(torch.zeros(1))  # where the model looks for its device

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows, cols = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
        shear, half = x[:, self.c1, None, None] * 0.4, 1.5 + x[:, self.c2, None, None]
        centre = 13.5 + shear * (13.5 - rows)
        ink = ((cols - centre).abs() <= half) & (rows >= 4) & (rows <= 23)
        return ink.float()[:, None]


def test_code_effects_find_the_factor_each_code_draws(tiny_config):
    model = InfoGAN.build(tiny_config)
    spec = model.spec
    start = {c.name: spec.noise_dim + sum(o.input_width for o in spec.codes[: i]) for i, c in enumerate(spec.codes)}
    model.generator = _Bar(start["c1"], start["c2"])
    effects = code_effects(model, rows_per_value=2, steps=7)
    assert set(effects) == {"c1", "c2"}
    assert effects["c1"].dominant == "slant" and effects["c1"].rho["slant"] == pytest.approx(1.0)
    assert effects["c2"].dominant in ("thickness", "width", "area") and effects["c2"].rho["thickness"] > 0.9
    assert effects["c1"].rows == 20 and 0 <= effects["c1"].identity_kept <= 1 and 0 <= effects["c1"].digit_kept <= 1
    # From -2 to 2 the bar leans twice as far and is still a bar leaning one way: the same meaning, a small gap.
    beyond = code_effects(model, rows_per_value=2, steps=7, span=2.0)
    assert beyond["c1"].span == 2.0 and beyond["c1"].dominant == "slant" and beyond["c1"].rho["slant"] == pytest.approx(1.0)
    assert effects["c1"].gap(beyond["c1"]) < 0.2


def test_the_extrapolation_gap_is_the_largest_change_of_a_rho_or_the_digit_kept():
    rising = np.tile(np.arange(9.0), (4, 1))
    flat = {m: rising * 0 for m in MEASURES}
    inside = effect_from_traversal({**flat, "slant": rising}, digit_kept=0.99, identity_kept=None)
    beyond = effect_from_traversal({**flat, "slant": rising, "width": rising}, digit_kept=0.9, identity_kept=None, span=2)
    assert inside.gap(beyond) == pytest.approx(1.0)  # width: 0 over -1..1, 1 over -2..2
    worse = effect_from_traversal({**flat, "slant": rising}, digit_kept=0.6, identity_kept=None, span=2)
    assert inside.gap(worse) == pytest.approx(0.39) and inside.gap(inside) == 0


def test_code_effects_need_28x28_grey_images_and_a_continuous_code(tiny_config):
    no_continuous = tiny_config
    no_continuous.latent.codes = [c for c in no_continuous.latent.codes if c.kind == "categorical"]
    assert code_effects(InfoGAN.build(no_continuous)) == {}
