"""Reader and writer for the IDX format of the MNIST distribution files."""

from __future__ import annotations

import gzip
import io
import math
import os
import zlib
from pathlib import Path

import numpy as np

from infogan.errors import DataError
from infogan.files import atomic_write_bytes

# IDX type codes and their big-endian numpy dtypes, as specified on the MNIST page.
_CODE_TO_DTYPE: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"

SPLITS = ("train", "test")
_SPLIT_PREFIX = {"train": "train", "test": "t10k"}


def _read_bytes(path: Path) -> bytes:
    """Return the file's IDX payload, gunzipping it when it starts with the gzip magic."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found; check the path or download the file again") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read file ({e.strerror or e}); check the path and its permissions") from None
    # Sniff the content rather than trusting the suffix: both variants are distributed.
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise DataError(f"{path}: truncated or corrupt gzip ({reason}); download the file again") from None


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (gzipped or not) into a native-endian numpy array."""
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DataError(f"{path}: not an IDX file (bad magic number {data[:4].hex() or 'empty'}); "
                        "use the original MNIST-format files")
    code, ndim = data[2], data[3]
    if code not in _CODE_TO_DTYPE:
        raise DataError(f"{path}: unknown IDX data type code 0x{code:02x}; the file is corrupt, download it again")
    if ndim == 0:
        raise DataError(f"{path}: IDX header declares 0 dimensions; the file is corrupt, download it again")
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise DataError(f"{path}: IDX header is truncated ({len(data)} of {header_len} bytes); "
                        "download the file again")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = _CODE_TO_DTYPE[code]
    expected = header_len + math.prod(shape) * dtype.itemsize
    if len(data) != expected:
        raise DataError(f"{path}: expected {expected} bytes for shape {shape} of {dtype.name}, "
                        f"found {len(data)}; the file is truncated or corrupt, download it again")
    array = np.frombuffer(data, dtype=dtype, offset=header_len).reshape(shape)
    # Copy into native byte order so the array is writable and torch-compatible.
    return array.astype(dtype.newbyteorder("="))


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write `array` as a gzipped IDX file, byte-for-byte reproducibly and atomically."""
    path = Path(path)
    array = np.asarray(array)
    codes = {dt.newbyteorder("="): code for code, dt in _CODE_TO_DTYPE.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise TypeError(f"IDX cannot store dtype {array.dtype}")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"IDX needs 1 to 255 dimensions, got {array.ndim}")
    big = _CODE_TO_DTYPE[codes[native]]
    header = bytes([0, 0, codes[native], array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(array, dtype=big).tobytes()

    buf = io.BytesIO()
    # mtime=0 and no embedded file name keep the output identical across runs.
    with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=buf, mtime=0) as gz:
        gz.write(payload)
    atomic_write_bytes(path, buf.getvalue())


def _find(data_dir: Path, name: str) -> Path | None:
    """Return the gzipped or plain variant of `name` in `data_dir`, preferring the gzipped one."""
    for candidate in (data_dir / f"{name}.gz", data_dir / name):
        if candidate.is_file():
            return candidate
    return None


def split_files(split: str) -> tuple[str, str]:
    """The names of the gzipped image and label files of an MNIST-format split."""
    if split not in _SPLIT_PREFIX:
        raise DataError(f"unknown split {split!r}; use one of: {', '.join(SPLITS)}")
    prefix = _SPLIT_PREFIX[split]
    return f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"


def load_idx_split(data_dir: str | os.PathLike[str], split: str) -> tuple[np.ndarray, np.ndarray]:
    """Load one MNIST-format split: images uint8 [N, 28, 28] and labels int64 [N]."""
    gz_names = split_files(split)
    data_dir = Path(data_dir)
    names = tuple(n.removesuffix(".gz") for n in gz_names)
    expected = " and ".join(gz_names)
    if not data_dir.is_dir():
        raise DataError(f"data directory {data_dir} does not exist; create it and put {expected} in it")
    found = {n: _find(data_dir, n) for n in names}
    missing = [f"{n}(.gz)" for n, p in found.items() if p is None]
    if missing:
        raise DataError(f"{data_dir} is missing {', '.join(missing)}; put the MNIST-format "
                        f"{split} files ({expected}) there")
    images_path, labels_path = found[names[0]], found[names[1]]
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(f"{images_path}: expected uint8 images of shape [N, 28, 28], got "
                        f"{images.dtype} {list(images.shape)}; use MNIST-format image files")
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise DataError(f"{labels_path}: expected uint8 labels of shape [N], got "
                        f"{labels.dtype} {list(labels.shape)}; use MNIST-format label files")
    if len(images) != len(labels):
        raise DataError(f"{images_path} holds {len(images)} images but {labels_path} holds "
                        f"{len(labels)} labels; use matching files from the same distribution")
    return images, labels.astype(np.int64)
