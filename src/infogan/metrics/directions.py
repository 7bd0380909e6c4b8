"""A label-free look at how a model's continuous codes share the image: the directions in which each pair of codes
changes G's pixels.

For each pair of continuous codes (a, b), G's images of latents moved by +-eps in a and b (the central differences
of :meth:`InfoGANObjective.mixed_partials`) give the image changes along a and along b at each latent. Two numbers per
pair: the mean squared cosine between the two changes (what ``loss.orthogonal`` penalises; 0 when the codes move
different pixels or move them in orthogonal ways, 1 when they move the image the same way) and the median ratio of
their sizes. Within the span of two factors whose changes are orthogonal, codes of equal size are orthogonal at any
rotation of the factors, codes of unequal sizes only when lined up with them; but two codes can also be orthogonal
along other directions than the factors', so a low cos^2 alone does not show the factors are found.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from itertools import combinations

import torch
import torch.nn.functional as F

from ..model import InfoGAN
from ..objective import InfoGANObjective


@dataclass(frozen=True)
class CodeDirections:
    cos2: float  # mean over latents of cos^2 between the image changes along the two codes
    size_ratio: float  # median over latents of |change along the first| / |change along the second|

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@torch.no_grad()
def code_directions(model: InfoGAN, n: int = 256, eps: float = 0.1, seed: int = 0) -> dict[str, CodeDirections]:
    """:class:`CodeDirections` of each pair of continuous codes, keyed ``"a/b"``, over ``n`` prior latents; empty
    with fewer than two continuous codes."""
    spec = model.spec
    names = [c.name for c in spec.codes if not c.categorical]
    if len(names) < 2:
        return {}
    latent = spec.sample(n, torch.Generator().manual_seed(seed))
    moved = InfoGANObjective(spec, 1.0, 1.0).mixed_partials(latent, eps)
    model.generator.eval()
    images = torch.cat([model.generator(spec.generator_input(m).to(model.device)).float().cpu() for m in moved])
    along_a, along_b = InfoGANObjective.code_changes(images, n)  # [pairs, n, pixels], pairs in combinations order
    cos2 = F.cosine_similarity(along_a, along_b, dim=-1, eps=1e-8).pow(2).mean(1)
    ratio = (along_a.norm(dim=-1) / along_b.norm(dim=-1).clamp_min(1e-12)).median(1).values
    return {f"{a}/{b}": CodeDirections(float(c), float(r))
            for (a, b), c, r in zip(combinations(names, 2), cos2, ratio)}
