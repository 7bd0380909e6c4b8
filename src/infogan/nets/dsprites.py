"""dSprites networks (64x64, grey) after the InfoGAN baseline of InfoGAN-CR (Lin et al., ICML 2020,
github.com/fjxmlzn/InfoGAN-CR, ``InfoGAN-CR_dSprites``); the InfoGAN paper has no dSprites experiment.

Discriminator/Q body: 4x4 conv 32 s2 -> 4x4 conv 32 s2 -> 4x4 conv 64 s2 -> 4x4 conv 64 s2 -> FC 128,
each followed by lReLU(0.2), no batchnorm, and spectral normalisation on every D and Q layer as there;
D head: FC 1; Q head: FC 128 lReLU -> FC q_dim.
Generator: FC 128 BN ReLU -> FC 4x4x64 BN ReLU -> 4x4 upconv 64 s2 BN lReLU(0.2) -> 4x4 upconv 32 s2
BN lReLU -> 4x4 upconv 32 s2 BN lReLU -> 4x4 upconv C s2 sigmoid. (InfoGAN-CR puts BN after the
activation; here BN precedes it, as in every other family.)
"""

from __future__ import annotations

from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from . import blocks

IMAGE_SIZE = 64
LEAK = 0.2  # InfoGAN-CR's lrelu


generator_kwargs = blocks.generator_kwargs
discriminator_kwargs = blocks.discriminator_kwargs


def _spectral(layers: list[nn.Module]) -> nn.Sequential:
    return nn.Sequential(*(spectral_norm(m) if isinstance(m, (nn.Conv2d, nn.Linear)) else m for m in layers))


class Generator(blocks.Generator):
    def __init__(self, input_dim: int, channels: int = 1, output: blocks.Output = "sigmoid"):
        def lrelu() -> nn.Module:
            return nn.LeakyReLU(LEAK, inplace=True)

        super().__init__([
            *blocks.fc(input_dim, 128, nn.ReLU(inplace=True)),
            *blocks.fc(128, 64 * 4 * 4, nn.ReLU(inplace=True)),
            nn.Unflatten(1, (64, 4, 4)),
            *blocks.upconv(64, 64, act=lrelu()),
            *blocks.upconv(64, 32, act=lrelu()),
            *blocks.upconv(32, 32, act=lrelu()),
            *blocks.image_out(32, channels, output),
        ])


class Discriminator(blocks.Discriminator):
    def __init__(self, q_dim: int, channels: int = 1):
        body = _spectral([
            *blocks.conv(channels, 32, bn=False, leak=LEAK),
            *blocks.conv(32, 32, bn=False, leak=LEAK),
            *blocks.conv(32, 64, bn=False, leak=LEAK),
            *blocks.conv(64, 64, bn=False, leak=LEAK),
            blocks.Flatten(),
            *blocks.fc(64 * 4 * 4, 128, nn.LeakyReLU(LEAK, inplace=True), bn=False),
        ])
        d_head = _spectral([nn.Linear(128, 1)])
        q_head = _spectral([*blocks.fc(128, 128, nn.LeakyReLU(LEAK, inplace=True), bn=False), nn.Linear(128, q_dim)])
        super().__init__(body, d_head, q_head)
