"""The static explorer (``infogan export --format web``): the page, the ONNX graphs and onnxruntime-web in one folder.

onnxruntime-web is not bundled with infogan (its WebAssembly file alone is 14 MB); the export copies the three files it
needs from the npm package, pinned to one release and checked by SHA-256. It looks, in order, at ``--ort-web PATH``,
``$INFOGAN_ORT_WEB``, ``./node_modules/onnxruntime-web`` and ``./onnxruntime-web-VERSION.tgz``; ``npm pack
onnxruntime-web@VERSION`` (the tarball) or ``npm install onnxruntime-web@VERSION`` (the folder) provides one.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
from pathlib import Path

from ..errors import ConfigError
from ..export import write_onnx
from ..files import atomic_write_bytes
from ..model import InfoGAN
from .app import model_info, static_file

ORT_WEB_VERSION = "1.30.0"
# The wasm-only build of onnxruntime-web: its loader, the WebAssembly module and the module's JS glue.
ORT_WEB_FILES = {
    "ort.wasm.min.js": "faece07e84faa9001f5104bbe4e5c70861d06cb2376a0dea1fa0ad33a67adc81",
    "ort-wasm-simd-threaded.wasm": "3398c10d07d229bd91b364548e130e0e51a8e5704b88c7c083ebbeb78842dee2",
    "ort-wasm-simd-threaded.mjs": "e13f7f94fc51b4ca72b12faeb1ee95f4ace6dfbc8939bc718aabdc0a27c4299b",
}
PAGE = {"index.html": "index.html", "app.js": "app.js", "style.css": "style.css", "backend.js": "onnx.js"}


def ort_web_candidates(given: Path | None) -> list[Path]:
    if given is not None:
        return [Path(given)]
    env = os.environ.get("INFOGAN_ORT_WEB")
    found = [Path(env)] if env else []
    return found + [Path("node_modules/onnxruntime-web"), Path(f"onnxruntime-web-{ORT_WEB_VERSION}.tgz")]


def read_ort_web(given: Path | None = None) -> dict[str, bytes]:
    """The onnxruntime-web files the page needs, from the first package found, checked against their SHA-256."""
    fix = (f"run npm pack onnxruntime-web@{ORT_WEB_VERSION} here (or npm install it), or pass --ort-web PATH to "
           "its .tgz or package folder")
    candidates = ort_web_candidates(given)
    path = next((p for p in candidates if p.exists()), None)
    if path is None:
        raise ConfigError(f"onnxruntime-web {ORT_WEB_VERSION} not found at {', '.join(map(str, candidates))}; {fix}")
    files = _read_package(path)
    for name, digest in ORT_WEB_FILES.items():
        if name not in files:
            raise ConfigError(f"{path} has no dist/{name}; is it onnxruntime-web {ORT_WEB_VERSION}? {fix}")
        if hashlib.sha256(files[name]).hexdigest() != digest:
            raise ConfigError(f"{path}: dist/{name} is not the one of onnxruntime-web {ORT_WEB_VERSION}; {fix}")
    return files


def _read_package(path: Path) -> dict[str, bytes]:
    """``dist/`` files of an npm package: a ``.tgz`` from ``npm pack`` or an installed package folder."""
    if path.is_dir():
        dist = path / "dist"
        return {name: (dist / name).read_bytes() for name in ORT_WEB_FILES if (dist / name).is_file()}
    try:
        with tarfile.open(path, "r:gz") as tar:
            out = {}
            for name in ORT_WEB_FILES:
                try:
                    member = tar.extractfile(f"package/dist/{name}")
                except KeyError:
                    continue
                if member is not None:
                    out[name] = member.read()
            return out
    except (tarfile.TarError, OSError, EOFError) as e:
        raise ConfigError(f"{path} is not a readable npm tarball ({e}); pass the onnxruntime-web .tgz or folder") from None


def write_web(model: InfoGAN, out: Path, ort_web: Path | None = None) -> Path:
    """The folder: the page with the in-browser backend, ``model.json``, both graphs and ``ort/``."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; the web export writes a folder")
    ort_files = read_ort_web(ort_web)  # before writing anything: a missing package leaves no half folder
    for name, source in PAGE.items():
        atomic_write_bytes(out / name, static_file(source))
    atomic_write_bytes(out / "model.json", json.dumps(model_info(model), indent=2).encode())
    write_onnx(model, out / "generator.onnx", out / "encoder.onnx")
    for name, data in ort_files.items():
        atomic_write_bytes(out / "ort" / name, data)
    atomic_write_bytes(out / "ort" / "LICENSE", static_file("onnxruntime-LICENSE.txt"))
    return out
