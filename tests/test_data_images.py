"""Image-file datasets: `folder` (any images, recursively) and `celeba` (aligned faces, folder or zip)."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from infogan.data import load_dataset
from infogan.errors import DataError


def _stripes(width: int, height: int) -> Image.Image:
    """Three vertical stripes: red, white, blue."""
    array = np.zeros((height, width, 3), dtype=np.uint8)
    third = width // 3
    array[:, :third], array[:, third : 2 * third], array[:, 2 * third :] = (255, 0, 0), (255, 255, 255), (0, 0, 255)
    return Image.fromarray(array)


@pytest.fixture
def pictures(tmp_path: Path) -> Path:
    """Six readable images in several formats and folders, one corrupt file, and files that are not images."""
    root = tmp_path / "pics"
    (root / "a" / "b").mkdir(parents=True)
    (root / ".hidden").mkdir()
    Image.new("RGB", (30, 30), (255, 0, 0)).save(root / "red.png")
    Image.new("RGBA", (30, 30), (0, 255, 0, 255)).save(root / "a" / "green.png")
    Image.new("L", (30, 30), 128).save(root / "a" / "grey.jpg", quality=95)
    Image.new("RGB", (30, 30), (0, 0, 255)).save(root / "a" / "b" / "blue.webp", lossless=True)
    Image.new("RGB", (30, 30), (0, 0, 255)).convert("P").save(root / "a" / "b" / "palette.gif")
    _stripes(60, 20).save(root / "wide.png")
    (root / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (root / "notes.txt").write_text("not an image")
    Image.new("RGB", (30, 30)).save(root / ".hidden" / "skipped.png")
    return root


def test_folder_loads_every_format_recursively_skipping_bad_files(pictures: Path) -> None:
    with pytest.warns(UserWarning, match=r"skipped 1 unreadable of 7 image files in .*broken\.jpg"):
        data = load_dataset("folder:size=8", pictures)
    assert data.shape == (3, 8, 8) and len(data) == 6 and data.labels is None
    # Sorted order: a/b/blue.webp, a/b/palette.gif, a/green.png, a/grey.jpg, red.png, wide.png.
    means = data.images.float().mean(dim=(2, 3)).round().tolist()
    assert means[0] == [0, 0, 255] and means[1] == [0, 0, 255] and means[2] == [0, 255, 0]
    assert means[3] == [128, 128, 128] and means[4] == [255, 0, 0]


def test_folder_bad_file_is_fatal_on_request(pictures: Path) -> None:
    with pytest.raises(DataError) as info:
        load_dataset("folder", pictures, on_bad="error", size=8)
    assert "broken.jpg: cannot decode image" in str(info.value) and "on_bad=skip" in str(info.value)


@pytest.mark.filterwarnings("ignore:skipped 1 unreadable")
def test_folder_channels_crop_and_subset(pictures: Path, tmp_path: Path) -> None:
    grey = load_dataset("folder:size=6,channels=1,on_bad=skip,n=3", pictures)
    assert grey.shape == (1, 6, 6) and len(grey) == 3
    wide = tmp_path / "wide"
    wide.mkdir()
    _stripes(60, 20).save(wide / "wide.png")
    centre = load_dataset("folder:size=9", wide).images[0].numpy()
    stretched = load_dataset("folder:size=9,crop=stretch", wide).images[0].numpy()
    assert centre.min() == 255  # the centred 20 x 20 square is the white stripe
    # Stretched, all three stripes stay: red at the left, white in the middle, blue at the right.
    red, white, blue = stretched[:, :, :2].reshape(3, -1), stretched[:, :, 4], stretched[:, :, 7:].reshape(3, -1)
    assert np.abs(red.T.astype(int) - [255, 0, 0]).max() <= 3 and white.min() >= 252
    assert np.abs(blue.T.astype(int) - [0, 0, 255]).max() <= 3


def test_folder_from_a_zip(pictures: Path, tmp_path: Path) -> None:
    archive = tmp_path / "pics.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(pictures / "red.png", "x/red.png")
        zf.write(pictures / "a" / "green.png", "x/green.png")
    data = load_dataset("folder:size=4", archive)
    assert len(data) == 2 and data.images[:, 1].float().mean().item() == pytest.approx(127.5, abs=1)


@pytest.mark.parametrize(
    "spec, data_dir, split, naming",
    [
        ("folder", None, "train", "needs --data-dir"),
        ("folder", "missing", "train", "does not exist"),
        ("folder", "empty", "train", "holds no image files"),
        ("folder", "pics", "test", "no test split"),
        ("folder:size=2", "pics", "train", "size must be 4..1024"),
        ("folder:crop=middle", "pics", "train", "crop must be one of center, stretch"),
        ("folder:channels=4", "pics", "train", "channels must be one of 1, 3"),
        ("folder:depth=8", "pics", "train", "has no option 'depth'"),
    ],
)
def test_folder_errors(pictures: Path, tmp_path: Path, spec: str, data_dir: str | None, split: str,
                       naming: str) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError) as info:
        load_dataset(spec, tmp_path / data_dir if data_dir else None, split)
    assert naming in str(info.value) and "\n" not in str(info.value)


def _faces(folder: Path, count: int) -> list[np.ndarray]:
    """CelebA-like 178 x 218 JPEGs: a grey 'face' square of side 108 in the centre, a red frame around it."""
    folder.mkdir(parents=True)
    faces = []
    for i in range(count):
        array = np.zeros((218, 178, 3), dtype=np.uint8)
        array[...] = (255, 0, 0)
        face = np.full((108, 108, 3), 40 * i, dtype=np.uint8)
        array[55:163, 35:143] = face
        Image.fromarray(array).save(folder / f"{i + 1:06d}.jpg", quality=95)
        faces.append(face)
    return faces


def test_celeba_folder_crops_the_face_and_splits(tmp_path: Path) -> None:
    _faces(tmp_path / "img_align_celeba", 5)
    data = load_dataset("celeba", tmp_path)
    assert data.shape == (3, 32, 32) and len(data) == 5 and data.labels is None
    values = data.images.float()[:, :, 1:-1, 1:-1]  # JPEG's blocks may blur the face's edge by a pixel
    assert (values[:, 0] - values[:, 1]).abs().max() <= 20  # grey only: the red frame (255 vs 0) was cropped away
    assert values.mean(dim=(1, 2, 3)).round().tolist() == pytest.approx([0, 40, 80, 120, 160], abs=3)
    whole = load_dataset("celeba:crop=0,size=16", tmp_path)  # the largest square keeps some red frame
    assert whole.shape == (3, 16, 16) and (whole.images[:, 0].float() - whole.images[:, 1].float()).max() > 100
    (tmp_path / "list_eval_partition.txt").write_text("000001.jpg 0\n000002.jpg 1\n000003.jpg 2\n000004.jpg 2\n"
                                                     "000005.jpg 0\n")
    assert len(load_dataset("celeba", tmp_path)) == 3 and len(load_dataset("celeba", tmp_path, "test")) == 2


def test_celeba_zip_is_extracted_into_the_cache_once(tmp_path: Path) -> None:
    _faces(tmp_path / "src" / "img_align_celeba", 3)
    user = tmp_path / "user"
    user.mkdir()
    with zipfile.ZipFile(user / "img_align_celeba.zip", "w") as zf:
        for p in sorted((tmp_path / "src" / "img_align_celeba").iterdir()):
            zf.write(p, f"img_align_celeba/{p.name}")
    assert len(load_dataset("celeba:size=8", user)) == 3
    assert len(load_dataset("celeba:size=8,n=2", user)) == 2
    assert sorted(p.name for p in user.iterdir()) == ["img_align_celeba.zip"]  # the user's folder is left alone
    extracted = list((Path(os.environ["INFOGAN_DATA"]) / "celeba").iterdir())
    assert len(extracted) == 1 and extracted[0].name.startswith("extracted-")


def test_celeba_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"needs --data-dir DIR holding img_align_celeba.zip .*mmlab"):
        load_dataset("celeba", tmp_path)
    _faces(tmp_path / "img_align_celeba", 1)
    with pytest.raises(DataError, match="--split test needs list_eval_partition.txt"):
        load_dataset("celeba", tmp_path, "test")
    (tmp_path / "list_eval_partition.txt").write_text("000001.jpg train\n")
    with pytest.raises(DataError, match=r"list_eval_partition.txt:1: expected 'FILE.jpg 0\|1\|2'"):
        load_dataset("celeba", tmp_path)
