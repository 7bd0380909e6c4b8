"""Gaussian fits of feature sets and the Frechet (2-Wasserstein) distance between them."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg


@dataclass(frozen=True)
class Gaussian:
    mean: np.ndarray  # [d]
    cov: np.ndarray  # [d, d], unbiased sample covariance

    @classmethod
    def fit(cls, features: np.ndarray) -> Gaussian:
        x = np.asarray(features, dtype=np.float64)
        if x.ndim != 2 or len(x) < 2:
            raise ValueError(f"need at least 2 feature vectors [N, d] to fit a Gaussian, got shape {x.shape}")
        return cls(x.mean(0), np.atleast_2d(np.cov(x, rowvar=False)))


def _psd_sqrt(m: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix; round-off negative eigenvalues count as 0."""
    w, v = linalg.eigh((m + m.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def frechet_distance(a: Gaussian, b: Gaussian) -> float:
    """||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)).

    The trace of (S_a S_b)^(1/2) is taken as the sum of square roots of the eigenvalues of
    S_a^(1/2) S_b S_a^(1/2), which has the same eigenvalues but is symmetric: no complex
    round-off from a non-symmetric sqrtm, and singular covariances (fewer samples than
    features) stay finite."""
    if a.mean.shape != b.mean.shape:
        raise ValueError(f"feature sizes differ: {a.mean.shape} vs {b.mean.shape}")
    root_a = _psd_sqrt(a.cov)
    inner = root_a @ b.cov @ root_a
    tr_covmean = float(np.sqrt(np.clip(linalg.eigvalsh((inner + inner.T) / 2), 0, None)).sum())
    diff = a.mean - b.mean
    d = float(diff @ diff + np.trace(a.cov) + np.trace(b.cov) - 2 * tr_covmean)
    return max(d, 0.0)  # a tiny negative is round-off between identical sets
