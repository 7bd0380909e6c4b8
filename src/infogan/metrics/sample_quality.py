"""Sample quality that needs no download: FD-digits and the digit-classifier score.

FD-digits is the Frechet distance between Gaussian fits of the shipped digit classifier's pooled
features on real images and on generated ones. It is not FID: the features come from a small
classifier trained on the bundled MNIST digits, not from Inception, so FD-digits values compare only
with other FD-digits values (same classifier, similar sample sizes; like FID it is biased upwards
for small samples)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .digit_classifier import IMAGE_SHAPE, TrainedClassifier, load_classifier
from .frechet import Gaussian, frechet_distance


@dataclass(frozen=True)
class SampleQuality:
    fd_digits: float  # 0 = the same feature Gaussian as the real images; lower is better
    classifier_score: float  # exp(E_x KL(p(y|x) || p(y))) of the samples, 1..10: confident and diverse is high
    real_classifier_score: float  # the same on the real images, for scale
    n_real: int
    n_fake: int


def classifier_score(probs: np.ndarray, eps: float = 1e-12) -> float:
    """The Inception Score's analogue with the digit classifier: exp of the mean KL from p(y|x) to p(y)."""
    p = np.asarray(probs, dtype=np.float64)
    marginal = p.mean(0, keepdims=True)
    kl = (p * (np.log(p + eps) - np.log(marginal + eps))).sum(1)
    return float(np.exp(kl.mean()))


def sample_quality(real: torch.Tensor, fake: torch.Tensor, classifier: TrainedClassifier | None = None) -> SampleQuality:
    """Compare two image sets [N, 1, 28, 28] (uint8, or floats in [0, 1])."""
    clf = classifier or load_classifier()
    r, f = clf.embed(real), clf.embed(fake)
    return SampleQuality(
        fd_digits=frechet_distance(Gaussian.fit(r.features), Gaussian.fit(f.features)),
        classifier_score=classifier_score(f.probs),
        real_classifier_score=classifier_score(r.probs),
        n_real=len(real),
        n_fake=len(fake),
    )


def applies_to(image_shape: tuple[int, ...]) -> bool:
    return tuple(image_shape) == IMAGE_SHAPE
