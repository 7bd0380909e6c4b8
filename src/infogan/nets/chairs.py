"""The 3D-chairs networks of the InfoGAN paper's Table 6 (64x64, grey).

Discriminator/Q body: 4x4 conv 64 s2 lReLU -> 4x4 conv 128 s2 BN lReLU -> 4x4 conv 256 s2 BN lReLU
-> 4x4 conv 256 s1 BN lReLU -> 4x4 conv 256 s1 BN lReLU -> FC 1024 BN lReLU; D and Q share all of it
and "only have separate output units at the last layer" (Appendix C.5): both heads are one FC layer.
Generator: FC 1024 BN ReLU -> FC 8x8x256 BN ReLU -> 4x4 upconv 256 s1 BN ReLU -> 4x4 upconv 256 s1
BN ReLU -> 4x4 upconv 128 s2 BN ReLU -> 4x4 upconv 64 s2 BN ReLU -> 4x4 upconv C s2 sigmoid.
Stride-1 layers keep the 8x8 size (SAME padding), as the authors' TensorFlow code does.
"""

from __future__ import annotations

from torch import nn

from . import blocks

IMAGE_SIZE = 64
FEATURES = 256 * 8 * 8  # the last conv's output: 256 maps of 8x8


generator_kwargs = blocks.generator_kwargs
discriminator_kwargs = blocks.discriminator_kwargs


class Generator(blocks.Generator):
    def __init__(self, input_dim: int, channels: int = 1, output: blocks.Output = "sigmoid"):
        super().__init__([
            *blocks.fc(input_dim, 1024, nn.ReLU(inplace=True)),
            *blocks.fc(1024, FEATURES, nn.ReLU(inplace=True)),
            nn.Unflatten(1, (256, 8, 8)),
            *blocks.upconv(256, 256, stride=1),
            *blocks.upconv(256, 256, stride=1),
            *blocks.upconv(256, 128),
            *blocks.upconv(128, 64),
            *blocks.image_out(64, channels, output),
        ])


class Discriminator(blocks.Discriminator):
    def __init__(self, q_dim: int, channels: int = 1):
        body = nn.Sequential(
            *blocks.conv(channels, 64, bn=False),
            *blocks.conv(64, 128),
            *blocks.conv(128, 256),
            *blocks.conv(256, 256, stride=1),
            *blocks.conv(256, 256, stride=1),
            blocks.Flatten(),
            *blocks.fc(FEATURES, 1024, nn.LeakyReLU(blocks.LEAK, inplace=True)),
        )
        super().__init__(body, nn.Linear(1024, 1), nn.Linear(1024, q_dim))
