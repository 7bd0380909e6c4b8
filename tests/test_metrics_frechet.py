import numpy as np
import pytest
from scipy import linalg

from infogan.metrics.frechet import Gaussian, frechet_distance


def _random_spd(rng: np.random.Generator, d: int) -> np.ndarray:
    a = rng.normal(size=(d, d))
    return a @ a.T + 0.1 * np.eye(d)


def test_closed_form_for_diagonal_gaussians():
    m1, m2 = np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, -1.0])
    v1, v2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    expected = ((m1 - m2) ** 2).sum() + ((np.sqrt(v1) - np.sqrt(v2)) ** 2).sum()  # 10 + 4 + 1 + 0
    assert frechet_distance(Gaussian(m1, np.diag(v1)), Gaussian(m2, np.diag(v2))) == pytest.approx(expected)


def test_closed_form_for_scaled_full_covariance():
    # S_b = c^2 S_a: the distance is (1 - c)^2 tr(S_a), whatever S_a's orientation.
    s = _random_spd(np.random.default_rng(0), 6)
    mu = np.zeros(6)
    assert frechet_distance(Gaussian(mu, s), Gaussian(mu, 9 * s)) == pytest.approx(4 * np.trace(s), rel=1e-9)


def test_agrees_with_the_textbook_sqrtm_formula():
    rng = np.random.default_rng(1)
    a = Gaussian(rng.normal(size=8), _random_spd(rng, 8))
    b = Gaussian(rng.normal(size=8), _random_spd(rng, 8))
    covmean = linalg.sqrtm(a.cov @ b.cov).real
    textbook = ((a.mean - b.mean) ** 2).sum() + np.trace(a.cov + b.cov - 2 * covmean)
    assert frechet_distance(a, b) == pytest.approx(textbook, rel=1e-8)


def test_symmetric_and_zero_for_identical_sets():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(500, 5)), rng.normal(1.0, 2.0, size=(400, 5))
    gx, gy = Gaussian.fit(x), Gaussian.fit(y)
    assert frechet_distance(gx, gy) == pytest.approx(frechet_distance(gy, gx), rel=1e-10)
    assert frechet_distance(gx, Gaussian.fit(x.copy())) == pytest.approx(0.0, abs=1e-9)
    assert frechet_distance(gx, gy) > 5


def test_fit_recovers_a_known_gaussian():
    rng = np.random.default_rng(3)
    s = _random_spd(rng, 4)
    x = rng.multivariate_normal(np.ones(4), s, size=20_000)
    g = Gaussian.fit(x)
    assert np.allclose(g.mean, 1, atol=0.05) and np.allclose(g.cov, s, atol=0.1 * np.abs(s).max())
    # Sampling error only: small next to a real shift of the mean by 1 per axis (distance 4).
    assert frechet_distance(g, Gaussian(np.ones(4), s)) < 0.1


def test_singular_covariances_stay_finite():
    rng = np.random.default_rng(4)
    few = Gaussian.fit(rng.normal(size=(3, 10)))  # rank 2 in 10 dimensions
    d = frechet_distance(few, Gaussian.fit(rng.normal(size=(3, 10))))
    assert np.isfinite(d) and d >= 0
    with pytest.raises(ValueError, match="at least 2"):
        Gaussian.fit(np.zeros((1, 3)))
