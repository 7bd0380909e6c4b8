import math

import pytest
import torch

from infogan.config import CodeConfig
from infogan.metrics.stability import code_stability
from infogan.model import InfoGAN


def _images(n: int = 40) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    x = torch.zeros(n, 1, 28, 28, dtype=torch.uint8)
    for i in range(n):  # a bright square at a random place
        r, c = torch.randint(4, 18, (2,), generator=g).tolist()
        x[i, 0, r : r + 6, c : c + 6] = 255
    return x


def _with_q(model: InfoGAN, q) -> InfoGAN:
    model.discriminator.q = q  # the instance attribute shadows the network's Q head
    return model


def test_a_code_that_ignores_moves_keeps_every_image_and_its_entropy_is_the_closed_form(tiny_config):
    model = InfoGAN.build(tiny_config)
    logits = torch.tensor([2.0, 1.0] + [0.0] * 8)

    def q(x):
        out = torch.zeros(len(x), model.spec.q_dim)
        out[:, :10] = logits
        return out

    st = code_stability(_with_q(model, q), _images())["cat0"]
    p = logits.softmax(0)
    assert st.kept == 1.0
    assert st.entropy == pytest.approx(float(-(p * p.log()).sum()), rel=1e-5)


def test_a_code_that_reads_position_loses_images_when_they_move(tiny_config):
    model = InfoGAN.build(tiny_config)

    def q(x):  # the class is the column of the image's centre of mass, in 10 bands of ~3 px
        cols = torch.arange(28.0)
        centre = (x.sum((1, 2)) * cols).sum(1) / x.sum((1, 2, 3))
        out = torch.zeros(len(x), model.spec.q_dim)
        out[torch.arange(len(x)), (centre / 2.8).long().clamp(0, 9)] = 10.0
        return out

    st = code_stability(_with_q(model, q), _images())["cat0"]
    assert 0.2 < st.kept < 0.9  # shifts of up to ~1.4 px and rotations move many centres across a band edge
    assert st.entropy < 0.01  # confident all the same: entropy alone cannot see it


def test_same_seed_same_score_and_no_categorical_code_no_score(tiny_config):
    model = InfoGAN.build(tiny_config)
    a = code_stability(model, _images(), seed=1)["cat0"]
    assert a == code_stability(model, _images(), seed=1)["cat0"]
    assert 0 <= a.kept <= 1 and 0 <= a.entropy <= math.log(10) + 1e-6
    tiny_config.latent.codes = [CodeConfig("c0", "continuous")]
    assert code_stability(InfoGAN.build(tiny_config), _images()) == {}
