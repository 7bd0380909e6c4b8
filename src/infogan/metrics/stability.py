"""A label-free check of a categorical code on real images: does Q's answer survive small moves?

A code value that names a digit keeps its images when they are rotated, sheared, scaled or shifted a
little (``infogan.augment``); a code that splits similar digits by slant or size loses many of them.
On the bundled digits the share of images that keep their code value ranks runs the way the
(label-based) accuracy does: runs with merged digits score lower. It needs no labels, so it can
judge runs on data that has none, or choose between runs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch

from ..augment import random_affine
from ..data import ImageData, ImageFiles
from ..model import InfoGAN


@dataclass(frozen=True)
class Stability:
    kept: float  # share of images whose most likely code value stays the same after a move (mean over draws)
    entropy: float  # mean entropy H(c|x) of Q's posterior on the unmoved images, in nats

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def stability_images(data: ImageData | ImageFiles, n: int = 10_000, seed: int = 0) -> torch.Tensor:
    """The real images a stability score reads: all of ``data``, or a fixed random subset of ``n`` (four Q passes
    over all of CelebA would cost more than they tell), as uint8 [N, C, H, W]."""
    if len(data) <= n:
        return data.images if isinstance(data, ImageData) else torch.from_numpy(data.read(range(len(data))))
    pick = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:n]
    return data.images[pick] if isinstance(data, ImageData) else torch.from_numpy(data.read(pick.tolist()))


@torch.no_grad()
def code_stability(model: InfoGAN, images_u8: torch.Tensor, draws: int = 3, seed: int = 0,
                   batch_size: int = 1000) -> dict[str, Stability]:
    """Per categorical code of ``model``: :class:`Stability` on real uint8 images [N, C, H, W]."""
    cats = [c for c in model.spec.codes if c.categorical]
    if not cats:
        return {}
    model.discriminator.eval()
    gen = torch.Generator(device=model.device).manual_seed(seed)
    kept = {c.name: 0.0 for c in cats}
    entropy = {c.name: 0.0 for c in cats}
    for batch in images_u8.split(batch_size):
        x = model.to_net(batch)
        q = model.spec.split_q(model.discriminator.q(x).float())
        for _ in range(draws):
            moved = model.spec.split_q(model.discriminator.q(random_affine(x, gen)).float())
            for c in cats:
                kept[c.name] += float((moved[c.name].logits.argmax(1) == q[c.name].logits.argmax(1)).sum())
        for c in cats:
            logits = q[c.name].logits
            entropy[c.name] -= float((logits.softmax(1) * logits.log_softmax(1)).sum())
    n = len(images_u8)
    return {c.name: Stability(kept[c.name] / (n * draws), entropy[c.name] / n) for c in cats}
