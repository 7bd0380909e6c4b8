"""The MNIST networks of the InfoGAN paper's Table 1 (28x28, grey).

Discriminator/Q body: 4x4 conv 64 s2 lReLU(0.1) -> 4x4 conv 128 s2 BN lReLU -> FC 1024 BN lReLU;
D head: FC 1; Q head: FC 128 BN lReLU -> FC q_dim.
Generator: FC 1024 BN ReLU -> FC 7x7x128 BN ReLU -> 4x4 upconv 64 s2 BN ReLU -> 4x4 upconv C s2.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import nn

Output = Literal["sigmoid", "tanh"]
IMAGE_SIZE = 28


def generator_kwargs(kw: dict[str, Any]) -> dict[str, Any]:
    return {k: kw[k] for k in ("input_dim", "channels", "output") if k in kw}


def discriminator_kwargs(kw: dict[str, Any]) -> dict[str, Any]:
    return {k: kw[k] for k in ("q_dim", "channels") if k in kw}


class Generator(nn.Module):
    def __init__(self, input_dim: int, channels: int = 1, output: Output = "sigmoid"):
        super().__init__()
        if output not in ("sigmoid", "tanh"):
            raise TypeError(f"output must be sigmoid or tanh, got {output!r}")
        self.net = nn.Sequential(
            nn.Linear(input_dim, 1024, bias=False),
            nn.BatchNorm1d(1024),
            nn.ReLU(inplace=True),
            nn.Linear(1024, 128 * 7 * 7, bias=False),
            nn.BatchNorm1d(128 * 7 * 7),
            nn.ReLU(inplace=True),
            nn.Unflatten(1, (128, 7, 7)),
            nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(inplace=True),
            nn.ConvTranspose2d(64, channels, 4, 2, 1),
            nn.Sigmoid() if output == "sigmoid" else nn.Tanh(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Discriminator(nn.Module):
    """D and Q in one module: they share the body, as in the paper."""

    def __init__(self, q_dim: int, channels: int = 1):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, 64, 4, 2, 1),
            nn.LeakyReLU(0.1, inplace=True),
            nn.Conv2d(64, 128, 4, 2, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.LeakyReLU(0.1, inplace=True),
            nn.Flatten(),
            nn.Linear(128 * 7 * 7, 1024, bias=False),
            nn.BatchNorm1d(1024),
            nn.LeakyReLU(0.1, inplace=True),
        )
        self.d_head = nn.Linear(1024, 1)
        self.q_head = nn.Sequential(
            nn.Linear(1024, 128, bias=False),
            nn.BatchNorm1d(128),
            nn.LeakyReLU(0.1, inplace=True),
            nn.Linear(128, q_dim),
        )

    def forward(self, x: torch.Tensor, q_from_detached_body: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the real/fake logit [N] and Q's raw output [N, q_dim].

        ``q_from_detached_body`` trains Q as a probe that cannot shape the shared body
        (the plain-GAN baseline, where the MI term must not act on D)."""
        h = self.body(x)
        return self.d_head(h).squeeze(1), self.q_head(h.detach() if q_from_detached_body else h)

    def q(self, x: torch.Tensor) -> torch.Tensor:
        """Q's raw output only (encoding real images, evaluation)."""
        return self.q_head(self.body(x))
