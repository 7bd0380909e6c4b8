"""CelebA, aligned and cropped faces (img_align_celeba), from a local folder or img_align_celeba.zip.

There is no download: the official files are on Google Drive and Baidu, which cannot be fetched
reliably by a script, so the user puts them in --data-dir (or in the cache folder).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from infogan.data.archive import safe_extract
from infogan.data.download import cache_dir
from infogan.data.folder import FolderOptions, ImageFiles, image_files
from infogan.data.idx import SPLITS
from infogan.data.options import Options
from infogan.errors import DataError

ZIP = "img_align_celeba.zip"
FOLDER = "img_align_celeba"
PARTITION = "list_eval_partition.txt"  # "000001.jpg 0" per line: 0 train, 1 validation, 2 test
HOME = "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html"
_TEST = 2


@dataclass(frozen=True)
class CelebaOptions(Options):
    size: int = 32  # the paper's 32 x 32
    crop: int = 108  # side of the centred square cut from the 178 x 218 image first (0: the largest, 178)
    on_bad: Literal["skip", "error"] = "skip"

    def __post_init__(self) -> None:
        super().__post_init__()
        FolderOptions(size=self.size)  # same size range
        if self.crop < 0:
            raise ValueError(f"crop must be >= 0, got {self.crop}")


def _where(data_dir: Path | None) -> Path:
    return data_dir if data_dir is not None else cache_dir("celeba")


def _image_root(folder: Path) -> Path | None:
    """The folder of JPEGs under `folder`: img_align_celeba/, extracted from the zip if need be, or `folder` itself."""
    if (folder / FOLDER).is_dir():
        return folder / FOLDER
    if (folder / ZIP).is_file():
        stat = (folder / ZIP).stat()
        # One extraction per version of the zip, in the cache (never inside the user's folder).
        return safe_extract(folder / ZIP, cache_dir("celeba") / f"extracted-{stat.st_size}-{int(stat.st_mtime)}")
    if any(folder.glob("*.jpg")):
        return folder
    return None


def locate(data_dir: Path | None) -> Path | None:
    folder = _where(data_dir)
    for candidate in (folder / FOLDER, folder / ZIP):
        if candidate.exists():
            return candidate
    return None


def _test_names(folder: Path) -> set[str] | None:
    path = folder / PARTITION
    if not path.is_file():
        return None
    names = set()
    for number, line in enumerate(path.read_text().splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2 or parts[1] not in ("0", "1", "2"):
            raise DataError(f"{path}:{number}: expected 'FILE.jpg 0|1|2', got {line!r}; use the official file")
        if int(parts[1]) == _TEST:
            names.add(parts[0])
    return names


def find(data_dir: Path | None, split: str, options: CelebaOptions) -> ImageFiles:
    """The faces of `split`, not decoded yet. "train": every image not in the official test partition; "test": those."""
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; use one of: {', '.join(SPLITS)}")
    folder = _where(data_dir)
    root = _image_root(folder) if folder.is_dir() else None
    if root is None:
        raise DataError(f"--data celeba needs --data-dir DIR holding {ZIP} or the {FOLDER}/ folder of "
                        f"'Align&Cropped Images' from {HOME} (not downloadable by script); {folder} has neither")
    files = [p for p in image_files(root) if p.suffix.lower() == ".jpg"]
    test = _test_names(folder)
    if test is None and split == "test":
        raise DataError(f"--split test needs {PARTITION} (from {HOME}) in {folder}")
    if test is not None:
        files = [p for p in files if (p.name in test) == (split == "test")]
    if not files:
        raise DataError(f"{root} holds no {split} .jpg images; put the {FOLDER} images there")
    decoding = FolderOptions(n=options.n, size=options.size, channels=3, crop="center", on_bad=options.on_bad)
    return ImageFiles("celeba", tuple(files), str(root), decoding, crop_side=options.crop)
