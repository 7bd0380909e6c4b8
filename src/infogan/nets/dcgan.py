"""A size-generic DCGAN-style family (Radford et al., 2016) for image folders: 32, 64 or 128 px,
any number of channels, in the style of the InfoGAN paper's Tables 2-3.

Discriminator/Q body: 4x4 conv ``width`` s2 lReLU(0.1), then 4x4 s2 convs with BN and lReLU, doubling
the channels (at most 8 x ``width``) until the maps are 4x4; D head: FC 1; Q head: FC 128 BN lReLU
-> FC q_dim. Generator: the mirror image: FC 4x4xC BN ReLU, 4x4 s2 upconvs with BN and ReLU halving
the channels, and a last 4x4 s2 upconv to the image channels.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from torch import nn

from . import blocks

IMAGE_SIZES = (32, 64, 128)


def generator_kwargs(kw: dict[str, Any]) -> dict[str, Any]:
    return blocks.pick(kw, ("input_dim", "channels", "output", "image_size", "width"))


def discriminator_kwargs(kw: dict[str, Any]) -> dict[str, Any]:
    return blocks.pick(kw, ("q_dim", "channels", "image_size", "width"))


def widths(image_size: int, width: int) -> list[int]:
    """Channels of the discriminator's convs, from the image down to 4x4 maps."""
    if image_size not in IMAGE_SIZES:
        raise ValueError(f"model.image_size must be one of {', '.join(map(str, IMAGE_SIZES))}, got {image_size}")
    if width < 1:
        raise ValueError(f"model.width must be >= 1, got {width}")
    n = (image_size // 4).bit_length() - 1  # stride-2 layers between the image and 4x4
    return [min(width * 2**i, 8 * width) for i in range(n)]


class Generator(blocks.Generator):
    def __init__(
        self, input_dim: int, channels: int = 3, output: blocks.Output = "tanh", image_size: int = 0, width: int = 64
    ):
        w = widths(image_size, width)[::-1]
        layers = [*blocks.fc(input_dim, w[0] * 4 * 4, nn.ReLU(inplace=True)), nn.Unflatten(1, (w[0], 4, 4))]
        for c_in, c_out in pairwise(w):
            layers += blocks.upconv(c_in, c_out)
        super().__init__(layers + blocks.image_out(w[-1], channels, output))


class Discriminator(blocks.Discriminator):
    def __init__(self, q_dim: int, channels: int = 3, image_size: int = 0, width: int = 64):
        w = widths(image_size, width)
        layers = blocks.conv(channels, w[0], bn=False)
        for c_in, c_out in pairwise(w):
            layers += blocks.conv(c_in, c_out)
        features = w[-1] * 4 * 4
        super().__init__(nn.Sequential(*layers, blocks.Flatten()), nn.Linear(features, 1), blocks.q_mlp(features, q_dim))
