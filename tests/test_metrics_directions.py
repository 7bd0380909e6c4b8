"""The directions in which pairs of continuous codes change G's images, against a linear G whose answer is known."""

from types import SimpleNamespace

import pytest
import torch
from torch import nn

from infogan.codes import CodeSpec, Latent, LatentSpec
from infogan.metrics.directions import code_directions


def _linear_model(spec: LatentSpec, columns: dict[str, list[float]]) -> SimpleNamespace:
    """A "model" whose G is linear: each continuous code adds its column times its value to 3 pixels."""
    g = nn.Linear(spec.input_dim, 3, bias=False)
    with torch.no_grad():
        g.weight.zero_()
        zero = Latent(torch.zeros(1, spec.noise_dim),
                      {c.name: torch.zeros(1, dtype=torch.long if c.categorical else None) for c in spec.codes})
        for name, column in columns.items():  # where the code sits in G's input: the entry its value moves
            moved = Latent(zero.z, zero.codes | {name: torch.ones(1)})
            at = (spec.generator_input(moved) - spec.generator_input(zero))[0].argmax()
            g.weight[:, at] = torch.tensor(column)
    return SimpleNamespace(spec=spec, generator=nn.Sequential(g, nn.Unflatten(1, (1, 1, 3))), device=torch.device("cpu"))


def test_cosine_and_size_ratio_of_each_pair_of_codes():
    spec = LatentSpec(2, (CodeSpec("c1", "continuous"), CodeSpec("c2", "continuous"), CodeSpec("c3", "continuous")))
    model = _linear_model(spec, {"c1": [2.0, 0.0, 0.0], "c2": [0.0, 1.0, 0.0], "c3": [1.0, 1.0, 0.0]})
    d = code_directions(model, n=8)
    assert set(d) == {"c1/c2", "c1/c3", "c2/c3"}
    assert d["c1/c2"].cos2 == pytest.approx(0.0, abs=1e-6) and d["c1/c2"].size_ratio == pytest.approx(2.0)
    assert d["c1/c3"].cos2 == pytest.approx(0.5) and d["c2/c3"].size_ratio == pytest.approx(2**-0.5)


def test_no_pair_without_two_continuous_codes():
    spec = LatentSpec(2, (CodeSpec("cat0", "categorical", k=3), CodeSpec("c1", "continuous")))
    assert code_directions(_linear_model(spec, {"c1": [1.0, 0.0, 0.0]}), n=4) == {}
