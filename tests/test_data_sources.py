"""Datasets read from local files: MNIST-format folders (incl. Debian's Fashion-MNIST layout) and SVHN .mat files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.io

from infogan.cli import main
from infogan.data import load_dataset
from infogan.data.idx import write_idx
from infogan.data.mnist import FASHION_MNIST, MNIST
from infogan.errors import DataError


def _idx_split(folder: Path, prefix: str, count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
    folder.mkdir(parents=True, exist_ok=True)
    write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
    write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, count, dtype=np.uint8))
    return images


def test_fashion_mnist_from_the_debian_package_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Debian's dataset-fashion-mnist installs the four .gz files in /usr/share/datasets/fashion-mnist."""
    debian = tmp_path / "usr/share/datasets/fashion-mnist"
    train = _idx_split(debian, "train", 6, seed=0)
    test = _idx_split(debian, "t10k", 3, seed=1)
    monkeypatch.setattr(FASHION_MNIST, "system_dirs", (debian,))
    assert load_dataset("fashion-mnist").images[:, 0].numpy().tolist() == train.tolist()
    assert load_dataset("fashion-mnist", split="test").images[:, 0].numpy().tolist() == test.tolist()
    assert FASHION_MNIST.locate(None) == debian
    # The package is not MNIST: `mnist` still wants its own files (offline in tests, so it says so).
    with pytest.raises(DataError, match="--data mnist needs --data-dir"):
        load_dataset("mnist")


def test_data_dir_wins_and_is_never_downloaded_into(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    debian, mine = tmp_path / "debian", tmp_path / "mine"
    _idx_split(debian, "train", 4, seed=0)
    expected = _idx_split(mine, "train", 5, seed=2)
    monkeypatch.setattr(FASHION_MNIST, "system_dirs", (debian,))
    assert load_dataset("fashion-mnist", mine).images[:, 0].numpy().tolist() == expected.tolist()
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte"):
        load_dataset("fashion-mnist", mine, "test")


def test_subset_option(tmp_path: Path) -> None:
    images = _idx_split(tmp_path, "train", 50, seed=3)
    data = load_dataset("mnist:n=7", tmp_path)
    again = load_dataset("mnist", tmp_path, n=7)
    assert len(data) == 7 and data.images.tolist() == again.images.tolist()
    rows = [images.tolist().index(img) for img in data.images[:, 0].numpy().tolist()]
    assert rows == sorted(rows) and len(set(rows)) == 7  # distinct images, in file order
    assert len(load_dataset("mnist:n=500", tmp_path)) == 50  # n above the size keeps everything


def _mat(path: Path, count: int, **overrides: np.ndarray) -> np.ndarray:
    x = np.random.default_rng(0).integers(0, 256, (32, 32, 3, count), dtype=np.uint8)
    arrays = {"X": x, "y": (np.arange(count) % 10 + 1).reshape(-1, 1).astype(np.uint8), **overrides}
    scipy.io.savemat(path, arrays)
    return x


def test_svhn_from_data_dir(tmp_path: Path) -> None:
    x = _mat(tmp_path / "train_32x32.mat", 12)
    data = load_dataset("svhn", tmp_path)
    assert data.shape == (3, 32, 32) and len(data) == 12
    assert data.labels.tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2]  # 10 means digit 0
    assert data.images[5].permute(1, 2, 0).numpy().tolist() == x[..., 5].tolist()


@pytest.mark.parametrize(
    "write, naming",
    [
        (lambda p: p.write_bytes(b"MATLAB 5.0 but then nothing"), "not a readable MATLAB file"),
        (lambda p: _mat(p, 3, X=np.zeros((28, 28, 3), np.uint8)), "expected X uint8 [32, 32, 3, N]"),
        (lambda p: _mat(p, 3, y=np.array([[0], [1], [2]], np.uint8)), "labels must be 1..10"),
        (lambda p: scipy.io.savemat(p, {"images": np.zeros(3)}), "has no X and y arrays"),
        (lambda p: None, "file not found"),
    ],
)
def test_svhn_bad_files(tmp_path: Path, write, naming: str) -> None:
    write(tmp_path / "test_32x32.mat")
    with pytest.raises(DataError) as info:
        load_dataset("svhn", tmp_path, "test")
    assert naming in str(info.value) and "test_32x32.mat" in str(info.value) and "\n" not in str(info.value)


def test_datasets_command_lists_each_with_its_licence(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FASHION_MNIST, "system_dirs", ())
    _idx_split(tmp_path, "train", 2, seed=0)
    _idx_split(tmp_path, "t10k", 2, seed=0)
    assert main(["datasets", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    blocks = {block.split()[0]: block for block in out.split("\n") if block and not block.startswith(" ")}
    assert list(blocks) == ["bundled", "mnist", "fashion-mnist", "svhn", "celeba", "dsprites", "shapes3d", "folder"]
    assert "CC BY-SA 3.0" in out and "MIT (Zalando SE)" in out and "non-commercial" in out
    assert MNIST.mirrors[0] in out
    assert f"here:    {tmp_path}\n" in out  # the IDX files are found for mnist
    assert main(["datasets"]) == 0
    assert "here:    not found" in capsys.readouterr().out  # nothing cached in the test's empty cache
