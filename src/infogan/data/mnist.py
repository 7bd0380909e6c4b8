"""MNIST and Fashion-MNIST: the official IDX files from --data-dir, a system package, or downloaded into the cache."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from infogan.data.download import RemoteFile, cache_dir, ensure_files
from infogan.data.idx import SPLITS, load_idx_split, split_files
from infogan.errors import DataError


@dataclass
class IdxSource:
    """An MNIST-format dataset: where its four IDX files can be found or fetched."""

    name: str
    mirrors: tuple[str, ...]
    checksums: dict[str, str]  # file name -> checksum of the official gzipped file
    system_dirs: tuple[Path, ...] = ()  # folders a system package installs the files into

    def files(self, split: str) -> list[RemoteFile]:
        return [RemoteFile(name, self.checksums[name]) for name in split_files(split)]

    def locate(self, data_dir: Path | None) -> Path | None:
        """The folder that holds the files of both splits, if any (for `infogan datasets`)."""
        for folder in ([data_dir] if data_dir else [*self.system_dirs, cache_dir(self.name)]):
            if all((folder / name).is_file() for name in self.checksums):
                return folder
        return None

    def load(self, data_dir: Path | None, split: str) -> tuple[np.ndarray, np.ndarray]:
        """Images uint8 [N, 28, 28] and labels int64 [N] of `split`."""
        if split not in SPLITS:
            raise DataError(f"unknown split {split!r}; use one of: {', '.join(SPLITS)}")
        if data_dir is not None:  # an explicit folder is used as is, never downloaded into
            return load_idx_split(data_dir, split)
        names = split_files(split)
        for folder in self.system_dirs:
            if all((folder / name).is_file() for name in names):
                return load_idx_split(folder, split)
        folder = cache_dir(self.name)
        ensure_files(self.name, self.files(split), folder, self.mirrors)
        return load_idx_split(folder, split)


# MD5s of the official gzipped files, as listed in torchvision's datasets/mnist.py (MNIST.resources and
# FashionMNIST.resources); the same values are published with the datasets.
MNIST = IdxSource(
    name="mnist",
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    checksums={
        "train-images-idx3-ubyte.gz": "md5:f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "md5:d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "md5:9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "md5:ec29112dd5afa0611ce80d1b7f02629c",
    },
)
FASHION_MNIST = IdxSource(
    name="fashion-mnist",
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
    ),
    checksums={
        "train-images-idx3-ubyte.gz": "md5:8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "md5:25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "md5:bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "md5:bb300cfdad3c16e7a12a480ee83cd310",
    },
    # Debian's dataset-fashion-mnist package (recompressed, so its .gz checksums differ; the IDX reader checks them).
    system_dirs=(Path("/usr/share/datasets/fashion-mnist"),),
)
