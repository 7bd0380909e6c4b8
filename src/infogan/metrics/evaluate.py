"""``infogan evaluate``: how well the codes capture the data, without using labels in training."""

from __future__ import annotations

from typing import Any

import torch

from ..data import ImageData
from ..errors import ConfigError
from ..model import InfoGAN
from .clustering import cluster_score
from .diagnosis import diagnose
from .directions import code_directions
from .disentanglement import disentanglement_scores
from .morphometry import EXTRAPOLATED_SPAN, code_effects, pair_codes
from .sample_quality import applies_to, sample_quality
from .stability import code_stability, stability_images


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


def evaluate(
    model: InfoGAN, data: ImageData, code: str | None = None, mi_samples: int = 10_000, quality_samples: int = 10_000,
    shape_rows: int = 10,
) -> dict[str, Any]:
    """Accuracy, NMI and a diagnosis of a categorical code as a label-free classifier of ``data``, the
    label-free stability of every categorical code on ``data``, L_I and H(c) of every code on fresh samples,
    and, for 28x28 grey models, FD-digits of samples vs ``data`` and what each continuous code does to the digits'
    shape (:mod:`infogan.metrics.morphometry`; ``shape_rows`` traversal rows per categorical value, the code over
    -1..1 and over -2..2), and, with two or more continuous codes, how each pair of them shares G's pixels
    (:mod:`infogan.metrics.directions`)."""
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
        diagnosis = diagnose(score.confusion)
        result.update(diagnosis=diagnosis.to_dict(), diagnosis_line=diagnosis.line(c.name))
    stability = code_stability(model, stability_images(data, quality_samples))
    if stability:
        result["stability"] = {name: s.to_dict() for name, s in stability.items()}
    mi = mi_on_samples(model, mi_samples)
    result["mi"] = mi
    result["entropy"] = {name: model.spec.code(name).entropy for name in mi}
    result["l_i_ceiling"] = {name: model.spec.code(name).l_i_ceiling for name in mi}  # below H(c) for a fixed std
    result.update(quality_of_samples(model, data, quality_samples))
    effects = code_effects(model, rows_per_value=shape_rows)
    if effects:  # and over the paper's -2..2, beyond the prior's range, on the same rows
        beyond = code_effects(model, rows_per_value=shape_rows, span=EXTRAPOLATED_SPAN)
        result["morphometry"] = {name: {**e.to_dict(), "beyond": beyond[name].to_dict(),
                                        "extrapolation_gap": e.gap(beyond[name])} for name, e in effects.items()}
        pairing = pair_codes({name: e.rho for name, e in effects.items()})
        if pairing is not None:
            result["morphometry_pairing"] = pairing.to_dict()
    directions = code_directions(model)
    if directions:
        result["code_directions"] = {pair: d.to_dict() for pair, d in directions.items()}
    if data.factors is not None:  # dSprites: Q as an encoder of the known factors
        result["disentanglement"] = disentanglement_scores(model, data).to_dict()
    return result


def quality_of_samples(model: InfoGAN, data: ImageData, n: int, seed: int = 0) -> dict[str, Any]:
    """FD-digits and the classifier score of prior samples against as many images of ``data`` (at most ``n``)."""
    if not applies_to(data.shape):
        shape = "x".join(map(str, data.shape))
        return {"fd_digits_note": f"FD-digits skipped: its digit classifier reads 1x28x28 images, these are {shape}"}
    n = min(n, len(data))
    real = data.images[torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:n]]
    gen = torch.Generator().manual_seed(seed)
    fake = torch.cat([model.generate(model.spec.sample(m, gen)).cpu() for m in _chunks(n, 1000)])
    q = sample_quality(real, fake)
    return {"fd_digits": q.fd_digits, "classifier_score": q.classifier_score,
            "classifier_score_real": q.real_classifier_score, "fd_digits_n": [q.n_real, q.n_fake]}


def _chunks(n: int, size: int) -> list[int]:
    return [min(size, n - start) for start in range(0, n, size)]
