import math

import pytest
import torch

from infogan.codes import CodeSpec, Latent, LatentSpec
from infogan.errors import ConfigError


def mnist_spec(std="exp") -> LatentSpec:
    return LatentSpec(
        62,
        (
            CodeSpec("cat0", "categorical", k=10),
            CodeSpec("c1", "continuous", std=std),
            CodeSpec("c2", "continuous", std=std),
        ),
    )


def test_paper_layout_sizes():
    spec = mnist_spec()
    assert spec.input_dim == 74  # 62 noise + 10 one-hot + 2 continuous, as in the paper
    assert spec.q_dim == 10 + 2 + 2  # logits, and mean + scale for each continuous code
    assert mnist_spec("fixed").q_dim == 12


def test_entropies_closed_form():
    spec = mnist_spec()
    assert spec.code("cat0").entropy == pytest.approx(math.log(10))
    assert spec.code("c1").entropy == pytest.approx(math.log(2))  # differential entropy of Unif(-1, 1)


def test_sampling_shapes_ranges_and_determinism():
    spec = mnist_spec()
    a = spec.sample(1000, torch.Generator().manual_seed(1))
    b = spec.sample(1000, torch.Generator().manual_seed(1))
    assert a.z.shape == (1000, 62) and a.z.min() >= -1 and a.z.max() <= 1
    assert a.codes["cat0"].dtype == torch.int64 and set(a.codes["cat0"].tolist()) == set(range(10))
    assert a.codes["c1"].shape == (1000,) and a.codes["c1"].abs().max() <= 1
    assert torch.equal(a.z, b.z) and all(torch.equal(a.codes[k], b.codes[k]) for k in a.codes)
    normal = LatentSpec(5, (), noise="normal").sample(20000, torch.Generator().manual_seed(0)).z
    assert normal.std().item() == pytest.approx(1.0, abs=0.02)


def test_contrastive_pairs_share_exactly_the_chosen_code():
    spec = mnist_spec()
    first, second, shared = spec.sample_pairs(4000, torch.Generator().manual_seed(2))
    assert set(shared.tolist()) == {0, 1, 2}  # cat0, c1, c2, each about a third of the pairs
    assert all(abs((shared == i).float().mean().item() - 1 / 3) < 0.03 for i in range(3))
    for i, c in enumerate(spec.codes):
        same = first.codes[c.name] == second.codes[c.name]
        assert same[shared == i].all()
        # the codes not shared are independent draws: a 10-way value matches 1 time in 10, a uniform one never
        assert same[shared != i].float().mean().item() < (0.13 if c.categorical else 1e-3)
    assert not (first.z == second.z).all(1).any()
    with pytest.raises(ConfigError, match="at least one latent code"):
        LatentSpec(5, ()).sample_pairs(2)


def test_generator_input_layout():
    spec = mnist_spec()
    z = torch.zeros(2, 62)
    x = spec.generator_input(Latent(z, {"cat0": torch.tensor([3, 7]), "c1": torch.tensor([0.5, -1.0]), "c2": torch.tensor([0.0, 0.25])}))
    assert x.shape == (2, 74)
    assert x[0, 62:72].tolist() == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
    assert x[1, 62 + 7] == 1 and x[1, 62:72].sum() == 1
    assert x[:, 72].tolist() == [0.5, -1.0] and x[:, 73].tolist() == [0.0, 0.25]


def test_categorical_log_likelihood_is_log_softmax():
    spec = LatentSpec(0, (CodeSpec("c", "categorical", k=4),))
    logits = torch.tensor([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0]])
    target = torch.tensor([2, 1])
    lq = spec.log_q(logits, {"c": target})["c"]
    expected = torch.log_softmax(logits, 1)[torch.arange(2), target]
    assert torch.allclose(lq, expected)
    assert lq[1].item() == pytest.approx(-math.log(4))


@pytest.mark.parametrize("mode", ["exp", "softplus"])
def test_gaussian_log_likelihood_matches_normal_density(mode):
    spec = LatentSpec(0, (CodeSpec("c", "continuous", std=mode),))
    raw = torch.tensor([[0.3, -0.7], [-0.2, 0.4]])
    std = torch.exp(raw[:, 1]) if mode == "exp" else torch.nn.functional.softplus(raw[:, 1])
    target = torch.tensor([0.1, -0.9])
    lq = spec.log_q(raw, {"c": target})["c"]
    expected = torch.distributions.Normal(raw[:, 0], std).log_prob(target)
    assert torch.allclose(lq, expected, atol=1e-6)


def test_fixed_std_gaussian():
    spec = LatentSpec(0, (CodeSpec("c", "continuous", std="fixed", fixed_std=0.5),))
    lq = spec.log_q(torch.tensor([[0.2]]), {"c": torch.tensor([0.7])})["c"]
    assert lq.item() == pytest.approx(torch.distributions.Normal(0.2, 0.5).log_prob(torch.tensor(0.7)).item())


def test_mi_lower_bound_limits():
    spec = LatentSpec(0, (CodeSpec("c", "categorical", k=10),))
    target = torch.arange(10)
    uniform = spec.mi_lower_bound(spec.log_q(torch.zeros(10, 10), {"c": target}))["c"]
    assert uniform.item() == pytest.approx(0.0, abs=1e-6)  # Q knows nothing: L_I = H - H = 0
    perfect = spec.mi_lower_bound(spec.log_q(torch.eye(10) * 50, {"c": target}))["c"]
    assert perfect.item() == pytest.approx(math.log(10), abs=1e-4)  # Q recovers c: L_I = H(c)


@pytest.mark.parametrize("code, closed_form", [
    (CodeSpec("c", "categorical", k=10), math.log(10)),
    (CodeSpec("c", "continuous", std="fixed"), math.log(2) - 0.5 * math.log(2 * math.pi)),  # -0.226
    (CodeSpec("c", "continuous", std="fixed", fixed_std=0.1), math.log(2) - 0.5 * math.log(2 * math.pi * 0.01)),
    (CodeSpec("c", "continuous", std="exp"), math.log(2) - 0.5 * math.log(2 * math.pi * 1e-6)),  # the std's clamp
])
def test_l_i_ceiling_is_the_bound_of_a_q_that_recovers_every_value(code, closed_form):
    assert code.l_i_ceiling == pytest.approx(closed_form, rel=1e-12)
    spec = LatentSpec(0, (code,))
    target = torch.arange(10) if code.categorical else torch.linspace(-1, 1, 10)
    if code.categorical:
        perfect = torch.eye(10) * 100
    else:  # the mean on the target; a learned std at its smallest
        perfect = torch.stack([target, torch.full((10,), -100.0)], 1)[:, : code.q_width]
    bound = spec.mi_lower_bound(spec.log_q(perfect, {"c": target}))["c"].item()
    assert bound == pytest.approx(code.l_i_ceiling, abs=1e-4)
    off = perfect.clone()  # a Q that misreads: below the ceiling
    off[:, 0] = 0.0 if code.categorical else off[:, 0] + 0.5
    assert spec.mi_lower_bound(spec.log_q(off, {"c": target}))["c"].item() < code.l_i_ceiling - 1e-3


def test_split_q_and_point_estimate():
    spec = mnist_spec()
    q = torch.randn(3, spec.q_dim)
    stats = spec.split_q(q)
    assert torch.equal(stats["cat0"].logits, q[:, :10])
    assert torch.equal(stats["c1"].mean, q[:, 10]) and torch.allclose(stats["c1"].std, torch.exp(q[:, 11]))
    assert torch.equal(stats["c2"].mean, q[:, 12])
    est = spec.point_estimate(q)
    assert torch.equal(est["cat0"], q[:, :10].argmax(1))
    with pytest.raises(ValueError):
        spec.split_q(torch.zeros(3, 5))


@pytest.mark.parametrize(
    "make",
    [
        lambda: CodeSpec("c", "categorical", k=1),
        lambda: CodeSpec("c", "continuous", std="bogus"),
        lambda: CodeSpec("bad name", "categorical", k=3),
        lambda: CodeSpec("c", "ordinal"),
        lambda: LatentSpec(-1),
        lambda: LatentSpec(0),
        lambda: LatentSpec(4, (CodeSpec("a", "categorical", k=2), CodeSpec("a", "categorical", k=3))),
    ],
)
def test_invalid_specs_raise_config_error(make):
    with pytest.raises(ConfigError):
        make()


def test_unknown_code_name():
    with pytest.raises(ConfigError, match="no code named"):
        mnist_spec().code("c9")
