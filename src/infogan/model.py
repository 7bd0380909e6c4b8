"""An InfoGAN model: the latent spec, the generator and the discriminator with its Q head.

Also owns the pixel convention: data are uint8, the networks see [0, 1] (sigmoid output)
or [-1, 1] (tanh output), and images for files come back as [0, 1] floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from . import nets
from .codes import Latent, LatentSpec
from .config import Config
from .data import ImageData
from .errors import DataError


@dataclass
class InfoGAN:
    config: Config
    spec: LatentSpec
    generator: torch.nn.Module
    discriminator: torch.nn.Module  # D and Q: returns (logit, q_out)
    channels: int = 1
    step: int = 0  # training steps behind these weights

    @staticmethod
    def net_kwargs(config: Config, channels: int) -> dict[str, Any]:
        """The explicit keyword arguments the networks are built from (stored in checkpoints)."""
        spec = config.latent.spec()
        kwargs: dict[str, Any] = {
            "input_dim": spec.input_dim,
            "q_dim": spec.q_dim,
            "channels": channels,
            "output": config.model.output,
        }
        # Only where set: the families with a fixed size refuse them, and older checkpoints lack them.
        kwargs.update({k: getattr(config.model, k) for k in ("image_size", "width") if getattr(config.model, k)})
        return kwargs

    @classmethod
    def build(cls, config: Config, channels: int = 1, device: torch.device | str = "cpu") -> "InfoGAN":
        """``channels`` (the data's) is used unless the config fixes them, so a preset can refuse other data."""
        channels = config.model.channels or channels
        g, d = nets.build(config.model.family, **cls.net_kwargs(config, channels))
        # NHWC weights: oneDNN runs bf16 convolutions on them without reordering each activation (a training step
        # of the MNIST preset measured 12% faster on a 2-core CPU); every model is built so, and computes alike
        nhwc = torch.channels_last
        return cls(config, config.latent.spec(), g.to(device, memory_format=nhwc), d.to(device, memory_format=nhwc),
                   channels)

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return nets.image_shape(self.config.model.family, self.channels, self.config.model.image_size)

    def check_data(self, data: ImageData) -> None:
        """Refuse data whose images the networks cannot take."""
        if data.shape != self.image_shape:
            raise DataError(
                f"data {data.name} has images of shape {data.shape}, the {self.config.model.family!r} networks "
                f"need {self.image_shape}; pick a matching preset or data"
            )

    @property
    def device(self) -> torch.device:
        return next(self.generator.parameters()).device

    # ---- pixel convention ---------------------------------------------------------
    def to_net(self, images_u8: torch.Tensor) -> torch.Tensor:
        x = images_u8.to(self.device, torch.float32) / 255.0
        return x * 2 - 1 if self.config.model.output == "tanh" else x

    def to_unit(self, x: torch.Tensor) -> torch.Tensor:
        return (x + 1) / 2 if self.config.model.output == "tanh" else x

    # ---- inference ----------------------------------------------------------------
    @torch.no_grad()
    def generate(self, latent: Latent) -> torch.Tensor:
        """Images in [0, 1] for a latent batch (eval mode: BatchNorm uses running statistics)."""
        self.generator.eval()
        return self.to_unit(self.generator(self.spec.generator_input(latent).to(self.device))).clamp(0, 1)

    @torch.no_grad()
    def encode(self, images_u8: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """Q's raw output for real uint8 images [N, C, H, W]; slice it with ``spec.split_q``."""
        self.discriminator.eval()
        outs = [self.discriminator.q(self.to_net(b)) for b in images_u8.split(batch_size)]
        return torch.cat(outs).float().cpu()
