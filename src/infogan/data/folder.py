"""Any folder of images (PNG, JPEG, WebP, ...; searched recursively), decoded with Pillow to a fixed size.

Everything is held in memory as uint8: N * C * size^2 bytes (200,000 RGB images at 64 x 64 are 2.5 GB).
"""

from __future__ import annotations

import os
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from tqdm import tqdm

from infogan.data.options import Options
from infogan.errors import DataError

EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")
_MAX_SIZE = 1024
_BATCH = 512  # files decoded per round; with n= set, rounds stop once n have decoded


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


def _try_decode(path: Path, options: FolderOptions, crop_side: int) -> np.ndarray | str:
    """The decoded image, or why it could not be decoded."""
    try:
        return decode(path, options.size, options.channels, options.crop, crop_side)
    except _BAD_FILE_ERRORS as e:
        return str(e).splitlines()[0] if str(e) else type(e).__name__


def decode_files(files: list[Path], where: str, options: FolderOptions, crop_side: int = 0) -> np.ndarray:
    """Decode `files` into uint8 [N, C, size, size], in their order, on all CPU cores.

    With `n` set, files are tried in a fixed random order until n decode; the others are never
    read. Unreadable files are skipped with one warning (on_bad="skip") or stop the load with a
    DataError naming the file (on_bad="error"); either way the result does not depend on timing.
    """
    subset = 0 < options.n < len(files)
    order = np.random.default_rng(0).permutation(len(files)) if subset else np.arange(len(files))
    want = options.n if subset else len(files)
    out = np.empty((want, options.channels, options.size, options.size), dtype=np.uint8)
    kept: list[int] = []
    bad: list[tuple[Path, str]] = []
    workers = min(8, os.cpu_count() or 1)  # Pillow releases the GIL while it decodes and resizes
    with ThreadPoolExecutor(workers) as pool, \
            tqdm(total=want, desc=f"decoding {where}", unit="img", disable=not sys.stderr.isatty(), leave=False) as bar:
        for start in range(0, len(order), _BATCH):
            batch = order[start:start + _BATCH] if len(kept) < want else []
            for i, result in zip(batch, pool.map(lambda i: _try_decode(files[i], options, crop_side), batch)):
                if len(kept) == want:
                    break
                if isinstance(result, str):
                    if options.on_bad == "error":
                        raise DataError(f"{files[i]}: cannot decode image ({result}); fix or remove it, "
                                        "or pass on_bad=skip to skip unreadable files")
                    bad.append((files[i], result))
                    continue
                out[len(kept)] = result
                kept.append(int(i))
                bar.update()
    if bad:
        warnings.warn(f"skipped {len(bad)} unreadable of {len(bad) + len(kept)} image files in {where} "
                      f"(first: {bad[0][0]}: {bad[0][1]}); pass on_bad=error to stop at the first instead")
    if not kept:
        raise DataError(f"{where}: none of its {len(files)} image files could be decoded; check the files")
    return out[: len(kept)][np.argsort(kept)]  # back in file order


def load(folder: Path, options: FolderOptions) -> np.ndarray:
    """The images under `folder` as uint8 [N, C, size, size]."""
    files = image_files(folder)
    if not files:
        raise DataError(f"{folder} holds no image files ({', '.join(EXTENSIONS)}); point --data-dir at the images")
    return decode_files(files, str(folder), options)
