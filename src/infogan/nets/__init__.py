"""Network families. Each family is a (Generator, Discriminator) pair built from plain
keyword arguments, which are stored in every checkpoint so loading needs no code guesswork."""

from __future__ import annotations

from typing import Any

from torch import nn

from ..errors import ConfigError
from . import mnist

FAMILIES = {"mnist": mnist}


def image_shape(family: str, channels: int) -> tuple[int, int, int]:
    """(C, H, W) of the images a family generates and discriminates."""
    return (channels, FAMILIES[family].IMAGE_SIZE, FAMILIES[family].IMAGE_SIZE)


def build(family: str, **kwargs: Any) -> tuple[nn.Module, nn.Module]:
    """Build ``(generator, discriminator_with_q)`` of a family from its keyword arguments."""
    try:
        module = FAMILIES[family]
    except KeyError:
        raise ConfigError(f"unknown network family {family!r}; known: {', '.join(FAMILIES)}") from None
    try:
        return module.Generator(**module.generator_kwargs(kwargs)), module.Discriminator(
            **module.discriminator_kwargs(kwargs)
        )
    except TypeError as e:  # an unexpected or missing keyword from a config file
        raise ConfigError(f"network family {family!r}: {e}") from None
