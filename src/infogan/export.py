"""Exports of a trained model, for use outside its run directory.

``safetensors``: one file with the weights of G and D/Q, the config and the step, and no
training state; ``infogan.load_model`` and every subcommand that takes RUN_DIR read it back.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from .errors import ConfigError
from .model import InfoGAN
from .runs import load_model, save_model_file


def _safetensors(model: InfoGAN, out: Path) -> Path:
    if out.suffix != ".safetensors":
        raise ConfigError(f"--out {out} should end in .safetensors")
    save_model_file(out, model)
    return out


# Each writer takes the loaded model and the output path, and returns what it wrote.
WRITERS: dict[str, Callable[[InfoGAN, Path], Path]] = {"safetensors": _safetensors}
FORMATS = tuple(WRITERS)


def export(run_dir: str | Path, fmt: str, out: str | Path) -> Path:
    """Write the newest model of ``run_dir`` (a run directory, checkpoint or model file) as ``fmt``."""
    writer = WRITERS.get(fmt)
    if writer is None:
        raise ConfigError(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    return writer(load_model(run_dir), Path(out))
