"""The MNIST networks of the InfoGAN paper's Table 1 (28x28, grey).

Discriminator/Q body: 4x4 conv 64 s2 lReLU(0.1) -> 4x4 conv 128 s2 BN lReLU -> FC 1024 BN lReLU;
D head: FC 1; Q head: FC 128 BN lReLU -> FC q_dim.
Generator: FC 1024 BN ReLU -> FC 7x7x128 BN ReLU -> 4x4 upconv 64 s2 BN ReLU -> 4x4 upconv C s2.

``body_layers`` and ``generator_layers`` take the image size because Table 4 (3D faces) is the
same stack at 32x32, as the official code's template computes it from the image size.
"""

from __future__ import annotations

from torch import nn

from . import blocks

IMAGE_SIZE = 28


generator_kwargs = blocks.generator_kwargs
discriminator_kwargs = blocks.discriminator_kwargs


def generator_layers(input_dim: int, channels: int, output: blocks.Output, image_size: int) -> list[nn.Module]:
    s = image_size // 4
    return [
        *blocks.fc(input_dim, 1024, nn.ReLU(inplace=True)),
        *blocks.fc(1024, 128 * s * s, nn.ReLU(inplace=True)),
        nn.Unflatten(1, (128, s, s)),
        *blocks.upconv(128, 64),
        *blocks.image_out(64, channels, output),
    ]


def body_layers(channels: int, image_size: int) -> list[nn.Module]:
    s = image_size // 4
    return [
        *blocks.conv(channels, 64, bn=False),
        *blocks.conv(64, 128),
        blocks.Flatten(),
        *blocks.fc(128 * s * s, 1024, nn.LeakyReLU(blocks.LEAK, inplace=True)),
    ]


class Generator(blocks.Generator):
    def __init__(self, input_dim: int, channels: int = 1, output: blocks.Output = "sigmoid"):
        super().__init__(generator_layers(input_dim, channels, output, IMAGE_SIZE))


class Discriminator(blocks.Discriminator):
    def __init__(self, q_dim: int, channels: int = 1):
        super().__init__(nn.Sequential(*body_layers(channels, IMAGE_SIZE)), nn.Linear(1024, 1), blocks.q_mlp(1024, q_dim))
