"""Any folder of images (PNG, JPEG, WebP, ...; searched recursively), decoded with Pillow to a fixed size.

Decoded, they take N * C * size^2 bytes as uint8 (200,000 RGB images at 64 x 64 are 2.5 GB): held in memory,
or left on disk and decoded batch by batch when that is too much (see `infogan.data.stream`).
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal, TypeVar

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from tqdm import tqdm

from infogan.data.options import Options
from infogan.errors import DataError

EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")
_MAX_SIZE = 1024
_BATCH = 512  # files decoded per round; with n= set, rounds stop once n have decoded
R = TypeVar("R")


@dataclass(frozen=True)
class FolderOptions(Options):
    size: int = 64  # images become size x size
    channels: Literal[1, 3] = 3  # 1: grayscale, 3: RGB
    crop: Literal["center", "stretch"] = "center"  # center: the largest centred square; stretch: the whole image
    on_bad: Literal["skip", "error"] = "skip"  # an unreadable file: skipped with a warning, or fatal

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 4 <= self.size <= _MAX_SIZE:
            raise ValueError(f"size must be 4..{_MAX_SIZE}, got {self.size}")


def image_files(folder: Path) -> list[Path]:
    """Image files under `folder` (recursively, hidden entries skipped), in a fixed order."""
    if not folder.is_dir():
        raise DataError(f"image folder {folder} does not exist; pass --data-dir DIR holding the images")
    files = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        files += [Path(root, n) for n in names if not n.startswith(".") and n.lower().endswith(EXTENSIONS)]
    return sorted(files)


def decode(source: str | os.PathLike[str] | BinaryIO, size: int, channels: int, crop: str,
           crop_side: int = 0) -> np.ndarray:
    """One image as uint8 [channels, size, size].

    crop "center" cuts the centred square of side `crop_side` (0: the largest that fits) before
    resizing; "stretch" resizes the whole image, changing its aspect ratio.
    """
    mode = "L" if channels == 1 else "RGB"
    with Image.open(source) as image:
        w, h = image.size
        # JPEG: let the decoder downscale by 2, 4 or 8 while what is kept still covers `size` pixels: much faster.
        kept = min(w, h) if crop_side <= 0 or crop == "stretch" else min(crop_side, w, h)
        scale = max(1, kept // size)
        image.draft(mode, (-(-w // scale), -(-h // scale)))
        factor = image.size[0] / w
        image = ImageOps.exif_transpose(image)  # photos from cameras store their rotation as a tag
        w, h = image.size
        if crop == "stretch":
            box = (0, 0, w, h)
        else:
            side = min(w, h) if crop_side <= 0 else min(round(crop_side * factor), w, h)
            left, top = (w - side) // 2, (h - side) // 2
            box = (left, top, left + side, top + side)
        if image.mode in ("P", "PA", "LA"):
            image = image.convert("RGBA")  # palette images may carry transparency
        # Crop first: resizing with a box would blend in pixels from outside it.
        image = image.convert(mode).crop(box).resize((size, size), Image.Resampling.LANCZOS, reducing_gap=3.0)
        array = np.asarray(image, dtype=np.uint8)
    return array[None] if channels == 1 else array.transpose(2, 0, 1)


_BAD_FILE_ERRORS = (OSError, UnidentifiedImageError, ValueError, SyntaxError, Image.DecompressionBombError, EOFError)


def _reason(e: Exception) -> str:
    return str(e).splitlines()[0] if str(e) else type(e).__name__


def _attempt(read: Callable[[Path], R], path: Path) -> R | str:
    """``read(path)``, or why the file could not be read."""
    try:
        return read(path)
    except _BAD_FILE_ERRORS as e:
        return _reason(e)


def _header(path: Path) -> None:
    """Raises unless Pillow knows the file; it reads the format and size, no pixels."""
    with Image.open(path):
        pass


@dataclass(frozen=True)
class ImageFiles:
    """Image files and how each decodes: all at once into memory (`load`), or batch by batch for data left on
    disk (`read`). Both go through `decode` with the same settings, so they give the same pixels."""

    name: str  # the dataset's
    files: tuple[Path, ...]
    where: str  # the folder, for messages
    options: FolderOptions
    crop_side: int = 0  # see `decode`

    def __len__(self) -> int:
        return len(self.files)

    @property
    def shape(self) -> tuple[int, int, int]:
        """Shape of one image: (C, H, W)."""
        return self.options.channels, self.options.size, self.options.size

    @property
    def count(self) -> int:
        """How many images `load` keeps at most: all, or `n`."""
        return self.options.n if 0 < self.options.n < len(self.files) else len(self.files)

    @property
    def nbytes(self) -> int:
        """The size of the decoded images in memory (at most; unreadable files are dropped)."""
        return self.count * math.prod(self.shape)

    def decode(self, path: Path) -> np.ndarray:
        return decode(path, self.options.size, self.options.channels, self.options.crop, self.crop_side)

    def load(self) -> np.ndarray:
        """The images that decode, as uint8 [N, C, size, size] in file order, on all CPU cores."""
        out = np.empty((self.count, *self.shape), dtype=np.uint8)
        kept: list[int] = []
        for i, image in self._readable(self.decode, "decoding"):
            out[len(kept)] = image
            kept.append(i)
        return out[: len(kept)][np.argsort(kept)]  # back in file order

    def readable(self) -> ImageFiles:
        """The files to leave on disk: those whose header reads (with `n` set, the first n in the same fixed order),
        without decoding any. The same files `load` keeps, unless one is broken past its header."""
        kept = sorted(i for i, _ in self._readable(_header, "checking"))
        return dataclasses.replace(self, files=tuple(self.files[i] for i in kept),
                                   options=dataclasses.replace(self.options, n=0))

    def read(self, indices: Sequence[int]) -> np.ndarray:
        """The images at `indices` as uint8 [len(indices), C, size, size]."""
        out = np.empty((len(indices), *self.shape), dtype=np.uint8)
        for k, i in enumerate(indices):
            try:
                out[k] = self.decode(self.files[i])
            except _BAD_FILE_ERRORS as e:  # too late to skip it: the run's data order counts it
                raise DataError(f"{self.files[i]}: cannot decode image ({_reason(e)}); replace it with a readable "
                                "image and resume, or start a new run without it") from None
        return out

    def _readable(self, read: Callable[[Path], R], verb: str) -> Iterator[tuple[int, R]]:
        """``(index, read(file))`` for each file that `read` succeeds on, several at a time on all CPU cores.

        With `n` set, files are tried in a fixed random order until n succeed; the others are never read.
        Unreadable files are skipped with one warning (on_bad="skip") or stop with a DataError naming the
        file (on_bad="error"); either way the result does not depend on timing.
        """
        files, options = self.files, self.options
        subset = 0 < options.n < len(files)
        order = np.random.default_rng(0).permutation(len(files)) if subset else np.arange(len(files))
        kept = 0
        bad: list[tuple[Path, str]] = []
        workers = min(8, os.cpu_count() or 1)  # Pillow releases the GIL while it decodes and resizes
        with ThreadPoolExecutor(workers) as pool, tqdm(total=self.count, desc=f"{verb} {self.where}", unit="img",
                                                       disable=not sys.stderr.isatty(), leave=False) as bar:
            for start in range(0, len(order), _BATCH):
                batch = order[start:start + _BATCH] if kept < self.count else []
                for i, result in zip(batch, pool.map(lambda i: _attempt(read, files[i]), batch)):
                    if kept == self.count:
                        break
                    if isinstance(result, str):
                        if options.on_bad == "error":
                            raise DataError(f"{files[i]}: cannot decode image ({result}); fix or remove it, "
                                            "or pass on_bad=skip to skip unreadable files")
                        bad.append((files[i], result))
                        continue
                    yield int(i), result
                    kept += 1
                    bar.update()
        if bad:
            warnings.warn(f"skipped {len(bad)} unreadable of {len(bad) + kept} image files in {self.where} "
                          f"(first: {bad[0][0]}: {bad[0][1]}); pass on_bad=error to stop at the first instead")
        if not kept:
            raise DataError(f"{self.where}: none of its {len(files)} image files could be decoded; check the files")


def find(folder: Path, options: FolderOptions) -> ImageFiles:
    """The images under `folder`, not decoded yet."""
    files = image_files(folder)
    if not files:
        raise DataError(f"{folder} holds no image files ({', '.join(EXTENSIONS)}); point --data-dir at the images")
    return ImageFiles("folder", tuple(files), str(folder), options)
