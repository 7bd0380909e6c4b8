"""Network families. Each family is a (Generator, Discriminator) pair built from plain
keyword arguments, which are stored in every checkpoint so loading needs no code guesswork.

A family module has ``Generator``, ``Discriminator`` (see ``blocks``), ``generator_kwargs`` and
``discriminator_kwargs`` (which of the keyword arguments each takes), and either a fixed
``IMAGE_SIZE`` or an ``image_size`` keyword argument.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import torch
from torch import nn

from ..errors import ConfigError
from . import chairs, dcgan, dsprites, faces, mnist, svhn

# Paper Tables 1, 2, 3, 4 and 6; dSprites after InfoGAN-CR; dcgan for image folders.
# "celeba" names the Table 3 networks, which are Table 2's (Appendix C.2 and C.3).
FAMILIES: dict[str, ModuleType] = {
    "mnist": mnist,
    "svhn": svhn,
    "celeba": svhn,
    "faces": faces,
    "chairs": chairs,
    "dsprites": dsprites,
    "dcgan": dcgan,
}


def _family(name: str) -> ModuleType:
    try:
        return FAMILIES[name]
    except KeyError:
        raise ConfigError(f"unknown network family {name!r}; known: {', '.join(FAMILIES)}") from None


def image_shape(family: str, channels: int, image_size: int = 0) -> tuple[int, int, int]:
    """(C, H, W) of the images a family generates and discriminates; ``image_size`` for size-generic families."""
    size = getattr(_family(family), "IMAGE_SIZE", image_size)
    return (channels, size, size)


def build(family: str, **kwargs: Any) -> tuple[nn.Module, nn.Module]:
    """Build ``(generator, discriminator_with_q)`` of a family from its keyword arguments."""
    module = _family(family)
    g_kw, d_kw = module.generator_kwargs(kwargs), module.discriminator_kwargs(kwargs)
    unused = sorted(set(kwargs) - set(g_kw) - set(d_kw))
    if unused:  # e.g. model.image_size for a fixed-size paper family: refuse rather than ignore
        raise ConfigError(f"network family {family!r} takes no {', '.join(unused)}; remove model.{unused[0]} from the config")
    try:
        return module.Generator(**g_kw), module.Discriminator(**d_kw)
    except (TypeError, ValueError) as e:  # an unexpected or missing keyword, or a value out of range
        raise ConfigError(f"network family {family!r}: {e}") from None


class PairClassifier(nn.Module):
    """InfoGAN-CR's contrastive network: which code a pair of images shares, one logit per code. Only training uses
    it."""

    def __init__(self, body: nn.Module, head: nn.Module):
        super().__init__()
        self.body, self.head = body, head

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(torch.cat([a, b], dim=1)))


def build_contrast(family: str, codes: int, **kwargs: Any) -> PairClassifier:
    """The family's D/Q body over the two images stacked on the channel axis, under Q's head with ``codes`` outputs
    (built from the same keyword arguments as the family's networks)."""
    module = _family(family)
    try:
        d = module.Discriminator(**module.discriminator_kwargs({**kwargs, "channels": 2 * kwargs["channels"],
                                                                "q_dim": codes}))
    except (TypeError, ValueError) as e:  # as in build: a keyword the family does not take, or out of range
        raise ConfigError(f"network family {family!r}, contrastive network: {e}") from None
    return PairClassifier(d.body, d.q_head)
