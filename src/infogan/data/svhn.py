"""SVHN cropped digits (format 2): train_32x32.mat / test_32x32.mat from --data-dir or downloaded into the cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.io

from infogan.data.download import RemoteFile, cache_dir, ensure_files
from infogan.data.idx import SPLITS
from infogan.errors import DataError

MIRRORS = ("http://ufldl.stanford.edu/housenumbers/",)
# MD5s as listed in torchvision's datasets/svhn.py (SVHN.split_list).
FILES = {
    "train": RemoteFile("train_32x32.mat", "md5:e26dedcc434d2e4c54c9b2d4a06d8373"),
    "test": RemoteFile("test_32x32.mat", "md5:eb5a983be6a315427106f1b164d9cef3"),
}


def locate(data_dir: Path | None) -> Path | None:
    """The folder holding both .mat files, if any (for `infogan datasets`)."""
    folder = data_dir or cache_dir("svhn")
    return folder if all((folder / f.name).is_file() for f in FILES.values()) else None


def read_mat(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 [N, 3, 32, 32] and labels int64 [N] (digit 0 is stored as 10 in the file) from one .mat file."""
    if not path.is_file():
        raise DataError(f"{path}: file not found; put the SVHN cropped-digits (format 2) .mat file there")
    try:
        mat = scipy.io.loadmat(path, variable_names=("X", "y"))
    except Exception as e:  # noqa: BLE001 - scipy raises many kinds on a truncated or foreign file
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise DataError(f"{path}: not a readable MATLAB file ({reason}); download it again") from None
    x, y = mat.get("X"), mat.get("y")
    if x is None or y is None:
        raise DataError(f"{path}: has no X and y arrays; use the SVHN cropped-digits (format 2) file")
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[:3] != (32, 32, 3) or y.size != x.shape[3]:
        raise DataError(f"{path}: expected X uint8 [32, 32, 3, N] and N labels, got X {x.dtype} {list(x.shape)} and "
                        f"{y.size} labels; use the SVHN cropped-digits (format 2) file")
    labels = y.reshape(-1).astype(np.int64)
    if labels.min() < 1 or labels.max() > 10:
        raise DataError(f"{path}: labels must be 1..10, found {labels.min()}..{labels.max()}; the file is corrupt")
    return np.ascontiguousarray(x.transpose(3, 2, 0, 1)), labels % 10


def load(data_dir: Path | None, split: str) -> tuple[np.ndarray, np.ndarray]:
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; use one of: {', '.join(SPLITS)}")
    file = FILES[split]
    if data_dir is not None:
        return read_mat(data_dir / file.name)
    folder = cache_dir("svhn")
    ensure_files("svhn", [file], folder, MIRRORS)
    return read_mat(folder / file.name)
