import math

import torch

from infogan import augment
from infogan.augment import random_affine


def _digit_like() -> torch.Tensor:
    x = torch.zeros(4, 1, 28, 28)
    x[:, :, 6:22, 12:16] = 1.0  # a vertical bar
    return x


def test_shapes_dtype_and_value_range_are_kept():
    x = _digit_like()
    y = random_affine(x, torch.Generator().manual_seed(0))
    assert y.shape == x.shape and y.dtype == x.dtype
    assert y.min() >= 0 and y.max() <= 1


def test_each_image_moves_by_its_own_map_and_keeps_most_of_its_mass():
    x = _digit_like()
    y = random_affine(x, torch.Generator().manual_seed(0))
    assert not torch.allclose(y, x, atol=1e-3)
    assert all(not torch.allclose(y[0], y[i], atol=1e-3) for i in range(1, 4))  # same input, different maps
    mass = y.sum((1, 2, 3)) / x.sum((1, 2, 3))
    max_area = (1 + augment.SMALL.scale) ** -2  # area shrinks or grows by the scale, nothing falls off the edge
    assert ((mass > max_area - 0.1) & (mass < (1 - augment.SMALL.scale) ** -2 + 0.1)).all()


def test_same_generator_state_gives_the_same_batch():
    x = _digit_like()
    a = random_affine(x, torch.Generator().manual_seed(3))
    b = random_affine(x, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_bar_tilts_by_at_most_the_rotation_plus_shear():
    x = _digit_like()
    limit = math.radians(augment.SMALL.degrees) + math.atan(augment.SMALL.shear)
    for seed in range(5):
        y = random_affine(x, torch.Generator().manual_seed(seed))[:, 0]
        rows = torch.arange(28.0)
        for img in y:
            top, bottom = img[8], img[19]  # rows inside the bar's extent after any allowed map
            ct = (top * rows).sum() / top.sum()
            cb = (bottom * rows).sum() / bottom.sum()
            assert abs(math.atan2(float(ct - cb), 11.0)) <= limit + 0.1


def test_no_moves_leave_the_images_as_they_are():
    x = _digit_like()
    y = random_affine(x, torch.Generator().manual_seed(0), augment.Moves(0.0, 0.0, 0.0, 0.0))
    assert torch.allclose(y, x, atol=1e-5)


def test_wider_moves_move_the_images_further():
    x = _digit_like().repeat(16, 1, 1, 1)

    def moved(moves: augment.Moves) -> float:
        return float((random_affine(x, torch.Generator().manual_seed(0), moves) - x).abs().mean())

    assert moved(augment.SMALL) < moved(augment.Moves(25.0, 0.3, 0.15, 0.15))


def test_the_consistency_term_moves_as_far_as_the_config_says(tiny_config, tiny_data):
    from infogan.train import Trainer

    loss = tiny_config.loss
    loss.consistency_degrees, loss.consistency_shear, loss.consistency_scale, loss.consistency_shift = 20, 0.2, 0.05, 0
    assert Trainer(tiny_config, tiny_data).moves == augment.Moves(20.0, 0.2, 0.05, 0.0)
