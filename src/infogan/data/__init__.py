"""Dataset registry: every loader returns an `ImageData` of uint8 images in [N, C, H, W]."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from infogan.data.bundled import load_bundled
from infogan.data.idx import SPLITS, load_idx_split
from infogan.errors import DataError


@dataclass(frozen=True)
class ImageData:
    """A labelled (or unlabelled) image set held as uint8 [N, C, H, W]."""

    name: str
    images: torch.Tensor
    labels: torch.Tensor | None

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4:
            raise ValueError(f"images must be uint8 [N, C, H, W], got {self.images.dtype} {list(self.images.shape)}")
        if self.labels is not None and (self.labels.dtype != torch.int64 or self.labels.shape != (len(self),)):
            raise ValueError(f"labels must be int64 [{len(self)}], got {self.labels.dtype} {list(self.labels.shape)}")

    @property
    def shape(self) -> tuple[int, int, int]:
        """Shape of one image: (C, H, W)."""
        c, h, w = self.images.shape[1:]
        return c, h, w

    def __len__(self) -> int:
        return self.images.shape[0]


def _from_numpy(name: str, images: np.ndarray, labels: np.ndarray) -> ImageData:
    """Wrap grayscale images [N, H, W] and labels [N] as an `ImageData` with C = 1."""
    return ImageData(name, torch.from_numpy(images).unsqueeze(1), torch.from_numpy(labels))


def _load_bundled(data_dir: str | os.PathLike[str] | None, split: str) -> ImageData:
    if split == "test":
        raise DataError("the bundled digits are a 10,000-image training subset with no test split; "
                        "use --data mnist --data-dir DIR for the test split")
    if split != "train":
        raise DataError(f"unknown split {split!r}; use one of: {', '.join(SPLITS)}")
    return _from_numpy("bundled", *load_bundled())


def _load_mnist(data_dir: str | os.PathLike[str] | None, split: str) -> ImageData:
    if data_dir is None:
        raise DataError("--data mnist needs --data-dir DIR holding train-images-idx3-ubyte.gz, "
                        "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz")
    return _from_numpy("mnist", *load_idx_split(data_dir, split))


# Loaders take (data_dir, split); add new datasets here.
_LOADERS: dict[str, Callable[[str | os.PathLike[str] | None, str], ImageData]] = {
    "bundled": _load_bundled,
    "mnist": _load_mnist,
}
DATASETS = tuple(_LOADERS)


def load_dataset(name: str, data_dir: str | os.PathLike[str] | None = None, split: str = "train") -> ImageData:
    """Load dataset `name` (one of `DATASETS`) for `split` ("train" or "test")."""
    loader = _LOADERS.get(name)
    if loader is None:
        raise DataError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    return loader(data_dir, split)


__all__ = ["DATASETS", "ImageData", "load_dataset"]
