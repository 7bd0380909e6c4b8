"""The 3D-faces networks of the InfoGAN paper's Table 4 (32x32, grey).

Table 1's stack at 32x32: body 4x4 conv 64 s2 lReLU -> 4x4 conv 128 s2 BN lReLU -> FC 1024 BN lReLU;
generator FC 1024 BN ReLU -> FC 8x8x128 BN ReLU -> 4x4 upconv 64 s2 BN ReLU -> 4x4 upconv C s2 sigmoid.
Unlike Tables 1-3, D and Q "share the same network, and only have separate output units at the
last layer" (Appendix C.4): both heads are single FC layers on the 1024 body features.
"""

from __future__ import annotations

from torch import nn

from . import blocks, mnist

IMAGE_SIZE = 32
generator_kwargs = mnist.generator_kwargs
discriminator_kwargs = mnist.discriminator_kwargs


class Generator(blocks.Generator):
    def __init__(self, input_dim: int, channels: int = 1, output: blocks.Output = "sigmoid"):
        super().__init__(mnist.generator_layers(input_dim, channels, output, IMAGE_SIZE))


class Discriminator(blocks.Discriminator):
    def __init__(self, q_dim: int, channels: int = 1):
        super().__init__(nn.Sequential(*mnist.body_layers(channels, IMAGE_SIZE)), nn.Linear(1024, 1), nn.Linear(1024, q_dim))
