import math

import pytest
import torch

from infogan.codes import CodeSpec, LatentSpec
from infogan.model import InfoGAN
from infogan.objective import InfoGANObjective


def _setup(cfg, lam_cat=1.0, lam_cont=0.1):
    torch.manual_seed(0)
    model = InfoGAN.build(cfg)
    obj = InfoGANObjective(model.spec, lam_cat, lam_cont)
    latent = model.spec.sample(8, torch.Generator().manual_seed(0))
    fake = model.generator(model.spec.generator_input(latent))
    return model, obj, latent, fake


def _grads(module):
    return {n: p.grad for n, p in module.named_parameters()}


def test_mi_gradient_reaches_generator_and_q_head(tiny_config):
    model, obj, latent, fake = _setup(tiny_config)
    _, q = model.discriminator(fake)
    mi_only = InfoGANObjective(model.spec, 1.0, 1.0)._info_loss(q, latent.codes, {"cat0": 1.0, "c1": 1.0, "c2": 1.0})[0]
    mi_only.backward()
    assert all(g is not None and g.abs().sum() > 0 for g in _grads(model.generator).values())
    assert all(g is not None and g.abs().sum() > 0 for n, g in _grads(model.discriminator).items() if n.startswith("q_head"))
    assert all(g is None for n, g in _grads(model.discriminator).items() if n.startswith("d_head"))


def test_discriminator_loss_trains_d_q_and_body_not_g(tiny_config):
    model, obj, latent, fake = _setup(tiny_config)
    x = torch.rand(8, 1, 28, 28)
    d_real, _ = model.discriminator(x)
    d_fake, q = model.discriminator(fake.detach())
    terms = obj.discriminator_loss(d_real, d_fake, q, latent.codes)
    terms.loss.backward()
    assert all(g is None for g in _grads(model.generator).values())
    assert all(g is not None for g in _grads(model.discriminator).values())
    assert set(terms.l_i) == {"cat0", "c1", "c2"}


def test_generator_loss_is_non_saturating_gan_plus_weighted_mi(tiny_config):
    model, obj, latent, fake = _setup(tiny_config, lam_cat=1.0, lam_cont=0.1)
    d_fake, q = model.discriminator(fake)
    terms = obj.generator_loss(d_fake, q, latent.codes)
    log_q = model.spec.log_q(q, latent.codes)
    expected_gan = torch.nn.functional.softplus(-d_fake).mean()  # -log sigmoid(D)
    expected = expected_gan - log_q["cat0"].mean() - 0.1 * (log_q["c1"].mean() + log_q["c2"].mean())
    assert terms.gan.item() == pytest.approx(expected_gan.item(), rel=1e-5)
    assert terms.loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert terms.l_i["cat0"].item() == pytest.approx(math.log(10) + log_q["cat0"].mean().item(), rel=1e-5)


def test_plain_gan_gives_g_no_mi_gradient_but_still_fits_q(tiny_config):
    model, obj, latent, fake = _setup(tiny_config, 0.0, 0.0)
    assert obj.plain_gan
    d_fake, q = model.discriminator(fake)
    obj.generator_loss(d_fake, q, latent.codes).loss.backward(retain_graph=True)
    g_with_gan = {n: g.clone() for n, g in _grads(model.generator).items()}
    model.generator.zero_grad()
    # The pure non-saturating GAN term alone gives exactly the same gradient.
    torch.nn.functional.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake)).backward()
    for n, g in _grads(model.generator).items():
        assert torch.equal(g, g_with_gan[n]), n
    # Q is fitted on fakes with weight 1, through the detached body.
    d_fake, q = model.discriminator(fake.detach(), q_from_detached_body=True)
    model.discriminator.zero_grad()
    obj.discriminator_loss(d_fake, d_fake, q, latent.codes).loss.backward()
    heads = _grads(model.discriminator)
    assert all(heads[n] is not None for n in heads if n.startswith("q_head"))
    assert obj.lambdas_or_probe == {"cat0": 1.0, "c1": 1.0, "c2": 1.0}


def test_consistency_is_zero_gradient_when_q_agrees_and_pulls_moved_posterior_to_the_original(tiny_config):
    model = InfoGAN.build(tiny_config)
    obj = InfoGANObjective(model.spec, 1.0, 1.0, consistency=1.0)
    q_real = torch.zeros(3, model.spec.q_dim)
    q_real[:, :10] = torch.tensor([5.0] + [0.0] * 9)  # confident: class 0
    q_moved = q_real.clone().requires_grad_(True)
    loss = obj.consistency(q_real, q_moved)
    p = q_real[0, :10].softmax(0)
    assert loss.item() == pytest.approx(float(-(p * p.log()).sum()), rel=1e-5)  # CE(p, p) = H(p)
    loss.backward()
    assert q_moved.grad.abs().max() < 1e-6  # already the minimum
    q_moved = torch.zeros(3, model.spec.q_dim, requires_grad=True)  # uniform: pulled towards class 0
    obj.consistency(q_real, q_moved).backward()
    assert (q_moved.grad[:, 0] < 0).all() and (q_moved.grad[:, 1:10] > 0).all()
    assert (q_moved.grad[:, 10:] == 0).all()  # continuous codes are left out


def test_consistency_adds_to_the_d_loss_with_its_weight_and_is_reported(tiny_config):
    model, _, latent, fake = _setup(tiny_config)
    x = torch.rand(8, 1, 28, 28)
    d_real, q_real = model.discriminator(x)
    d_fake, q_fake = model.discriminator(fake.detach())
    q_moved = model.discriminator(x.flip(3))[1]
    plain = InfoGANObjective(model.spec, 1.0, 0.1).discriminator_loss(d_real, d_fake, q_fake, latent.codes)
    weighted = InfoGANObjective(model.spec, 1.0, 0.1, consistency=2.0)
    terms = weighted.discriminator_loss(d_real, d_fake, q_fake, latent.codes, q_real, q_moved)
    assert plain.consistency is None
    assert terms.consistency.item() > 0
    assert terms.loss.item() == pytest.approx(plain.loss.item() + 2.0 * terms.consistency.item(), rel=1e-5)


def test_consistency_is_off_without_a_categorical_code(tiny_config):
    from infogan.config import CodeConfig

    tiny_config.latent.codes = [CodeConfig("c0", "continuous")]
    model = InfoGAN.build(tiny_config)
    assert InfoGANObjective(model.spec, 1.0, 1.0, consistency=1.0).consistency_weight == 0.0


def test_real_info_is_the_code_entropy_minus_the_posterior_entropy_on_the_batch():
    spec = LatentSpec(0, (CodeSpec("cat0", "categorical", k=4),))
    objective = InfoGANObjective(spec, 1.0, 1.0, real_info=1.0)
    sure = torch.full((8, 4), -30.0)
    sure[torch.arange(8), torch.arange(8) % 4] = 30.0  # each image one value, every value twice
    assert objective.real_info(sure).item() == pytest.approx(math.log(4), abs=1e-5)
    one_value = torch.full((8, 4), -30.0)
    one_value[:, 2] = 30.0
    assert objective.real_info(one_value).item() == pytest.approx(0.0, abs=1e-5)  # collapsed: no information
    assert objective.real_info(torch.zeros(8, 4)).item() == pytest.approx(0.0, abs=1e-6)  # undecided: none either
    # The D loss subtracts it with its weight, so D's step raises it; the plain GAN never adds it.
    d, q = torch.zeros(8, 1), sure.clone().requires_grad_()
    targets = {"cat0": torch.zeros(8, dtype=torch.long)}
    with_term = objective.discriminator_loss(d, d, q, targets, q_real=sure)
    without = InfoGANObjective(spec, 1.0, 1.0).discriminator_loss(d, d, q, targets, q_real=sure)
    assert with_term.loss.item() == pytest.approx(without.loss.item() - math.log(4), abs=1e-4)
    assert with_term.real_info.item() == pytest.approx(math.log(4), abs=1e-5) and without.real_info is None
    assert InfoGANObjective(spec, 0.0, 0.0, real_info=1.0).real_info_weight == 0.0


def test_contrastive_term_adds_its_weighted_cross_entropy_to_g_and_reaches_g_through_h(tiny_config):
    from infogan import nets

    model, _, latent, fake = _setup(tiny_config)
    obj = InfoGANObjective(model.spec, 1.0, 0.1, contrastive=2.0)
    h = nets.build_contrast("mnist", 3, **InfoGAN.net_kwargs(tiny_config, 1))
    first, second, shared = model.spec.sample_pairs(8, torch.Generator().manual_seed(1))
    pair = [model.generator(model.spec.generator_input(x)) for x in (first, second)]
    logits = h(*pair)
    assert logits.shape == (8, 3)
    d_fake, q = model.discriminator(fake)
    plain, with_pairs = obj.generator_loss(d_fake, q, latent.codes), obj.generator_loss(d_fake, q, latent.codes,
                                                                                         logits, shared)
    ce = torch.nn.functional.cross_entropy(logits, shared)
    assert with_pairs.loss.item() == pytest.approx(plain.loss.item() + 2.0 * ce.item(), rel=1e-5)
    model.generator.zero_grad()
    obj.contrastive(logits, shared).backward()
    assert all(g is not None and g.abs().sum() > 0 for g in _grads(model.generator).values())


def test_hessian_penalty_is_the_mean_square_of_each_code_pairs_mixed_derivative():
    # A "generator" whose pixels are k1 c1 c2, a code alone (c3^2 + c1, sin c2) and k2 c2 c3: the mixed derivatives
    # are k1 (c1, c2) and k2 (c2, c3) on one pixel each and 0 elsewhere, which central differences give exactly.
    spec = LatentSpec(2, (CodeSpec("cat0", "categorical", k=3), CodeSpec("c1", "continuous"),
                          CodeSpec("c2", "continuous"), CodeSpec("c3", "continuous")))
    obj, k1, k2, n, eps = InfoGANObjective(spec, 1.0, 1.0, hessian=0.5), 3.0, -2.0, 5, 0.1
    latent = spec.sample(n, torch.Generator().manual_seed(0))
    moved = obj.mixed_partials(latent, eps)
    assert len(moved) == 3 * 4  # three pairs, four moves each
    assert all(torch.equal(m.z, latent.z) and torch.equal(m.codes["cat0"], latent.codes["cat0"]) for m in moved)
    c = {name: torch.cat([m.codes[name] for m in moved]).double() for name in ("c1", "c2", "c3")}
    images = torch.stack([k1 * c["c1"] * c["c2"], c["c3"] ** 2 + c["c1"] + torch.sin(c["c2"]),
                          k2 * c["c2"] * c["c3"]], 1).view(-1, 1, 1, 3)
    penalty = obj.hessian(images, n, eps)
    assert penalty.item() == pytest.approx((k1**2 + k2**2) / 9, rel=1e-5)  # mean over 3 pairs x 3 pixels
    # G's loss adds it with its weight; nothing is added without it.
    d, q = torch.zeros(n, 1), torch.zeros(n, spec.q_dim)
    plain = obj.generator_loss(d, q, latent.codes)
    assert obj.generator_loss(d, q, latent.codes, hessian=penalty).loss.item() == pytest.approx(
        plain.loss.item() + 0.5 * penalty.item(), rel=1e-5)
    assert plain.hessian is None
    one_code = LatentSpec(2, (CodeSpec("c1", "continuous"),))
    assert InfoGANObjective(one_code, 1.0, 1.0).mixed_partials(one_code.sample(n), eps) == []  # no pair: no term


def test_orthogonality_penalty_is_the_squared_cosine_of_two_codes_image_changes():
    # A linear "generator" G = c1 u + c2 v on 2 pixels: its changes along c1 and c2 are u and v, whatever the latent.
    spec = LatentSpec(2, (CodeSpec("c1", "continuous"), CodeSpec("c2", "continuous")))
    obj, n, eps = InfoGANObjective(spec, 1.0, 1.0, orthogonal=2.0), 4, 0.1
    latent = spec.sample(n, torch.Generator().manual_seed(0))
    moved = obj.mixed_partials(latent, eps)
    c1, c2 = (torch.cat([m.codes[k] for m in moved]).double()[:, None] for k in ("c1", "c2"))

    def penalty(u, v):
        return obj.orthogonality((c1 * torch.tensor(u) + c2 * torch.tensor(v)).view(-1, 1, 1, 2), n).item()

    assert penalty([1.0, 0.0], [0.0, 3.0]) == pytest.approx(0.0, abs=1e-9)  # two directions: no penalty
    assert penalty([1.0, 1.0], [2.0, 2.0]) == pytest.approx(1.0)  # the same direction, whatever the size
    assert penalty([1.0, 0.0], [1.0, 1.0]) == pytest.approx(0.5)  # 45 degrees apart: cos^2 = 1/2
    # A rotation of two orthogonal changes of different sizes is penalised, of equal sizes not (the docstring's case).
    cos, sin = math.cos(0.3), math.sin(0.3)  # s = (1, 0) and w = (0, 2) turned by 0.3 rad; then s and w both size 1
    assert penalty([cos, 2 * sin], [-sin, 2 * cos]) == pytest.approx(9 * (sin * cos) ** 2 / (
        (cos**2 + 4 * sin**2) * (sin**2 + 4 * cos**2)))
    assert penalty([cos, sin], [-sin, cos]) == pytest.approx(0.0, abs=1e-9)
    d, q = torch.zeros(n, 1), torch.zeros(n, spec.q_dim)
    value = torch.tensor(penalty([1.0, 0.0], [1.0, 1.0]))
    assert obj.generator_loss(d, q, latent.codes, orthogonal=value).loss.item() == pytest.approx(
        obj.generator_loss(d, q, latent.codes).loss.item() + 2.0 * 0.5, rel=1e-5)
