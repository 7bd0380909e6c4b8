"""`ImageData`: what every dataset loader returns, uint8 images [N, C, H, W] with optional labels and factors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class Factors:
    """Ground-truth factors of variation (e.g. dSprites' shape, scale, orientation, position).

    `classes[i, f]` indexes `levels[f]`, the values factor `f` takes; metrics use the classes,
    plots the values.
    """

    names: tuple[str, ...]
    classes: torch.Tensor
    levels: tuple[tuple[float, ...], ...]

    def __post_init__(self) -> None:
        if self.classes.dtype != torch.int64 or self.classes.dim() != 2 or self.classes.shape[1] != len(self.names):
            raise ValueError(f"classes must be int64 [N, {len(self.names)}], "
                             f"got {self.classes.dtype} {list(self.classes.shape)}")
        if len(self.levels) != len(self.names):
            raise ValueError(f"need levels for each of the {len(self.names)} factors, got {len(self.levels)}")

    @property
    def values(self) -> torch.Tensor:
        """The factor values as float64 [N, F]."""
        columns = [torch.tensor(levels, dtype=torch.float64)[self.classes[:, f]] for f, levels in enumerate(self.levels)]
        return torch.stack(columns, dim=1)

    def select(self, index: torch.Tensor) -> Factors:
        return Factors(self.names, self.classes[index], self.levels)


@dataclass(frozen=True)
class ImageData:
    """A labelled (or unlabelled) image set held as uint8 [N, C, H, W], 0 = black, 255 = white."""

    name: str
    images: torch.Tensor
    labels: torch.Tensor | None
    factors: Factors | None = None

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise ValueError(f"images must be uint8 [N, C, H, W], got {self.images.dtype} {list(self.images.shape)}")
        if self.labels is not None and (self.labels.dtype != torch.int64 or self.labels.shape != (len(self),)):
            raise ValueError(f"labels must be int64 [{len(self)}], got {self.labels.dtype} {list(self.labels.shape)}")
        if self.factors is not None and len(self.factors.classes) != len(self):
            raise ValueError(f"factors must have {len(self)} rows, got {len(self.factors.classes)}")

    @property
    def shape(self) -> tuple[int, int, int]:
        """Shape of one image: (C, H, W)."""
        c, h, w = self.images.shape[1:]
        return c, h, w

    def __len__(self) -> int:
        return self.images.shape[0]

    def select(self, index: np.ndarray | torch.Tensor) -> ImageData:
        """The images at `index` (with their labels and factors), in that order."""
        index = torch.as_tensor(index, dtype=torch.int64)
        return ImageData(
            self.name,
            self.images[index],
            None if self.labels is None else self.labels[index],
            None if self.factors is None else self.factors.select(index),
        )


def subset_indices(total: int, n: int, seed: int = 0) -> np.ndarray:
    """`n` distinct indices out of `total`, drawn with a fixed seed and sorted (the data keep their order)."""
    return np.sort(np.random.default_rng(seed).choice(total, size=n, replace=False))
