"""The SVHN and CelebA networks of the InfoGAN paper's Tables 2 and 3 (32x32, colour).

Appendix C.2 and C.3 use the same networks; only the generator's input differs (168 for SVHN,
228 for CelebA). Table 3's caption even says "used for SVHN dataset".

Discriminator/Q body: 4x4 conv 64 s2 lReLU -> 4x4 conv 128 s2 BN lReLU -> 4x4 conv 256 s2 BN lReLU;
D head: FC 1; Q head: FC 128 BN lReLU -> FC q_dim.
Generator: FC 2x2x448 BN ReLU -> 4x4 upconv 256 s2 BN ReLU -> 4x4 upconv 128 s2 ReLU
-> 4x4 upconv 64 s2 ReLU -> 4x4 upconv C s2 tanh. The table gives batchnorm only to the FC and
the first upconv; the 128 and 64 upconvs have none, and are built so.
"""

from __future__ import annotations

from torch import nn

from . import blocks

IMAGE_SIZE = 32
FEATURES = 256 * 4 * 4  # the body's output: 256 maps of 4x4


generator_kwargs = blocks.generator_kwargs
discriminator_kwargs = blocks.discriminator_kwargs


class Generator(blocks.Generator):
    def __init__(self, input_dim: int, channels: int = 3, output: blocks.Output = "tanh"):
        super().__init__([
            *blocks.fc(input_dim, 448 * 2 * 2, nn.ReLU(inplace=True)),
            nn.Unflatten(1, (448, 2, 2)),
            *blocks.upconv(448, 256),
            *blocks.upconv(256, 128, bn=False),
            *blocks.upconv(128, 64, bn=False),
            *blocks.image_out(64, channels, output),
        ])


class Discriminator(blocks.Discriminator):
    def __init__(self, q_dim: int, channels: int = 3):
        body = nn.Sequential(
            *blocks.conv(channels, 64, bn=False),
            *blocks.conv(64, 128),
            *blocks.conv(128, 256),
            blocks.Flatten(),
        )
        super().__init__(body, nn.Linear(FEATURES, 1), blocks.q_mlp(FEATURES, q_dim))
