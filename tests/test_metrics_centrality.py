"""ModelCentrality: the FactorVAE agreement between models' codes, and the most central of several models."""

import copy

import numpy as np
import pytest
import torch
from conftest import _tiny_config, _tiny_data

from infogan.codes import Latent
from infogan.config import CodeConfig
from infogan.errors import ConfigError
from infogan.metrics.centrality import centrality, pairwise_similarity
from infogan.model import InfoGAN
from infogan.train import Trainer


def _trained(seed: int, steps: int) -> InfoGAN:
    cfg = _tiny_config()
    cfg.train.seed = seed
    trainer = Trainer(cfg, _tiny_data())
    for _ in range(steps):
        trainer.train_step()
    return trainer.model


@pytest.fixture(scope="module")
def model() -> InfoGAN:
    """The tiny config after 60 steps: its Q reads its own G's codes back (cat0, c1 and c2)."""
    return _trained(3, 60)


@pytest.fixture(scope="module")
def untrained() -> InfoGAN:
    """Independently initialised and not trained: its Q's outputs hardly move (less than FactorVAE's 0.05)."""
    return _trained(99, 0)


def _swap_c1_c2(model: InfoGAN) -> InfoGAN:
    """The same model with c1 and c2 swapped in G's input and in Q's output, by permuting weights."""
    swapped = copy.deepcopy(model)
    spec = model.spec
    g_in = spec.noise_dim + spec.code("cat0").input_width  # G's input: [z | cat0 | c1 | c2]
    q_out = spec.code("cat0").q_width  # Q's output: [cat0 logits | c1 mean | c2 mean] (std fixed)
    first = next(m for m in swapped.generator.modules() if isinstance(m, torch.nn.Linear))
    last = swapped.discriminator.q_head[-1]
    with torch.no_grad():
        first.weight[:, [g_in, g_in + 1]] = first.weight[:, [g_in + 1, g_in]].clone()
        last.weight[[q_out, q_out + 1]] = last.weight[[q_out + 1, q_out]].clone()
        last.bias[[q_out, q_out + 1]] = last.bias[[q_out + 1, q_out]].clone()
    return swapped


def test_a_model_agrees_with_itself_and_not_with_a_random_model(model, untrained):
    s = pairwise_similarity([model, untrained])
    assert s[0, 0] > 0.9  # its Q finds the code each batch fixed
    assert s[0, 1] < s[0, 0] - 0.3 and s[1, 1] == 0.0  # an untrained Q reads nothing: no output varies enough
    assert np.array_equal(s, s.T)


def test_codes_found_in_another_order_agree_fully(model):
    swapped = _swap_c1_c2(model)
    latent = model.spec.sample(8, torch.Generator().manual_seed(0))
    flipped = Latent(latent.z, {**latent.codes, "c1": latent.codes["c2"], "c2": latent.codes["c1"]})
    assert torch.allclose(swapped.generate(flipped), model.generate(latent), atol=1e-5)  # a true permutation
    s = pairwise_similarity([model, swapped])
    assert s[0, 1] == pytest.approx(1.0, abs=0.05) and s[0, 1] == pytest.approx(s[0, 0], abs=0.05)
    assert np.array_equal(s, s.T)


def test_the_same_seed_gives_the_same_scores_and_the_diagonal_may_be_left_out(model, untrained):
    models = [model, untrained]
    full = pairwise_similarity(models, n_votes=30, batch=8, seed=1)
    assert np.array_equal(pairwise_similarity(models, n_votes=30, batch=8, seed=1), full)
    off = pairwise_similarity(models, n_votes=30, batch=8, seed=1, diagonal=False)
    assert np.isnan(np.diag(off)).all() and off[0, 1] == off[1, 0] == full[0, 1]


def test_centrality_picks_a_model_that_another_copies(model):
    other = _trained(5, 10)  # from other weights: its Q reads its own G's codes, not the model's
    scores = centrality([other, _swap_c1_c2(model), model])  # measured: 0.38, 0.69, 0.68
    assert int(np.argmax(scores)) in (1, 2) and scores[0] < min(scores[1:]) - 0.2
    assert centrality([model]) == [0.0]


def test_centrality_refuses_models_with_other_codes(model, tiny_config):
    tiny_config.latent.codes = [CodeConfig(name="c1", kind="continuous")]
    with pytest.raises(ConfigError, match="same kinds of codes"):
        centrality([model, InfoGAN.build(tiny_config)])
