"""``infogan evaluate``: how well the codes capture the data, without using labels in training."""

from __future__ import annotations

from typing import Any

import torch

from ..data import ImageData
from ..errors import ConfigError
from ..model import InfoGAN
from .clustering import cluster_score


@torch.no_grad()
def mi_on_samples(model: InfoGAN, n: int = 10_000, seed: int = 0, batch_size: int = 1000) -> dict[str, float]:
    """L_I per code on fresh prior samples (eval mode), to compare with H(c)."""
    gen = torch.Generator().manual_seed(seed)
    totals: dict[str, float] = {}
    model.discriminator.eval()
    for start in range(0, n, batch_size):
        m = min(batch_size, n - start)
        latent = model.spec.sample(m, gen)
        x = model.generator.eval()(model.spec.generator_input(latent).to(model.device))
        log_q = model.spec.log_q(model.discriminator.q(x).float().cpu(), latent.codes)
        for name, lq in log_q.items():
            totals[name] = totals.get(name, 0.0) + float(lq.sum())
    return {name: model.spec.code(name).entropy + total / n for name, total in totals.items()}


def evaluate(model: InfoGAN, data: ImageData, code: str | None = None, mi_samples: int = 10_000) -> dict[str, Any]:
    """Accuracy and NMI of a categorical code as a label-free classifier of ``data``,
    plus L_I and H(c) of every code on fresh samples."""
    result: dict[str, Any] = {"data": data.name, "n_images": len(data)}
    cats = [c for c in model.spec.codes if c.categorical]
    if code is not None:
        chosen = model.spec.code(code)
        if not chosen.categorical:
            raise ConfigError(f"--code {code} is continuous; accuracy needs a categorical code")
        cats = [chosen]
    if cats and data.labels is not None:
        c = cats[0]
        q = model.encode(data.images)
        pred = model.spec.point_estimate(q)[c.name].numpy()
        labels = data.labels.numpy()
        score = cluster_score(pred, labels, c.k, max(int(labels.max()) + 1, 1))
        result.update(
            code=c.name,
            accuracy=score.accuracy,
            nmi=score.nmi,
            mapping={str(k): v for k, v in score.mapping.items()},
            usage=score.confusion.sum(1).tolist(),
            confusion=score.confusion.tolist(),  # rows: code values, columns: labels
        )
    mi = mi_on_samples(model, mi_samples)
    result["mi"] = mi
    result["entropy"] = {name: model.spec.code(name).entropy for name in mi}
    return result
