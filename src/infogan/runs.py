"""Run directories and checkpoints.

A run directory holds ``config.toml`` (the resolved config), ``metrics.jsonl``, figures, and
``checkpoints/step-NNNNNNN.safetensors``. A checkpoint is one self-describing safetensors
file: the weights, optimizer moments, RNG and data-order states as tensors, and the step,
config, network keyword arguments and optimizer hyper-parameters as JSON/TOML metadata.
Loading parses tensors and text only; nothing is ever unpickled.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as st_save

from .config import Config
from .errors import CheckpointError, ConfigError
from .files import atomic_write_bytes
from .model import InfoGAN

FORMAT = "infogan-checkpoint"
MODEL_FORMAT = "infogan-model"  # weights, config and step only: what `infogan export --format safetensors` writes
VERSION = 1


class CheckpointWarning(UserWarning):
    """A checkpoint was skipped (torn or corrupt) in favour of an older one."""


def tensors_digest(tensors: dict[str, torch.Tensor]) -> str:
    """SHA-256 over names, dtypes, shapes and bytes of every tensor, in name order."""
    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


@dataclass
class RunDir:
    path: Path

    def __post_init__(self) -> None:
        self.path = Path(self.path)

    @property
    def config_path(self) -> Path:
        return self.path / "config.toml"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def scores_path(self) -> Path:
        """Disentanglement scores over training (``train.score_every``)."""
        return self.path / "scores.jsonl"

    @property
    def checkpoint_dir(self) -> Path:
        return self.path / "checkpoints"

    def checkpoint_path(self, step: int) -> Path:
        return self.checkpoint_dir / f"step-{step:07d}.safetensors"

    def checkpoints(self) -> list[Path]:
        """Checkpoint files, oldest first."""
        return sorted(self.checkpoint_dir.glob("step-*.safetensors"))

    def latest_checkpoint(self) -> Path:
        found = self.checkpoints()
        if not found:
            raise CheckpointError(f"no checkpoint in {self.checkpoint_dir}; train first with: infogan train --out {self.path}")
        return found[-1]

    def load_latest(self) -> "Checkpoint":
        """The newest checkpoint that loads and verifies; a torn or corrupt newer one is skipped
        with a warning (it is kept on disk for inspection, and overwritten only by a newer save)."""
        self.latest_checkpoint()  # raises the "train first" error when there is none
        errors = []
        for path in reversed(self.checkpoints()):
            try:
                ckpt = load_checkpoint(path)
            except CheckpointError as e:
                if not path.exists():  # pruned since it was listed: a training beside this reader saved a newer one
                    return self.load_latest()
                errors.append(str(e))
                continue
            if errors:
                warnings.warn(f"{errors[0]}; using the older {path.name} instead", CheckpointWarning, stacklevel=2)
            return ckpt
        raise CheckpointError(errors[0] if len(errors) == 1 else f"no usable checkpoint in {self.checkpoint_dir}: {errors[0]}")

    def clean_after_crash(self, step: int) -> None:
        """Make the directory agree with the checkpoint a resume starts from: drop temp files
        of writes a kill interrupted, and metrics and scores logged after ``step`` (they will be logged again)."""
        for tmp in self.checkpoint_dir.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
        for log in (self.metrics_path, self.scores_path):
            if not log.exists():
                continue
            kept = []
            for line in log.read_text().splitlines():
                try:
                    if json.loads(line)["step"] <= step:
                        kept.append(line + "\n")
                except (ValueError, KeyError, TypeError):
                    pass  # a line torn by a kill
            atomic_write_bytes(log, "".join(kept).encode())

    def prune(self, keep: int) -> None:
        for old in self.checkpoints()[:-keep]:
            old.unlink(missing_ok=True)


# ---- checkpoint file ----------------------------------------------------------------
@dataclass
class Checkpoint:
    step: int
    config: Config
    net_kwargs: dict[str, Any]
    tensors: dict[str, torch.Tensor]
    meta: dict[str, Any] = field(default_factory=dict)  # JSON-able trainer state (data cursor, ...)
    optim_groups: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def module_state(self, prefix: str) -> dict[str, torch.Tensor]:
        p = prefix + "."
        return {k[len(p) :]: v for k, v in self.tensors.items() if k.startswith(p)}

    def optimizer_state(self, name: str) -> dict[str, Any]:
        """Rebuild a torch optimizer state_dict from the flat tensors and stored groups."""
        state: dict[int, dict[str, torch.Tensor]] = {}
        for key, value in self.module_state(f"optim.{name}").items():
            idx, slot = key.split(".", 1)
            state.setdefault(int(idx), {})[slot] = value
        groups = [dict(g, betas=tuple(g["betas"])) if "betas" in g else g for g in self.optim_groups[name]]
        return {"state": state, "param_groups": groups}


def save_checkpoint(
    path: Path,
    *,
    step: int,
    model: InfoGAN,
    optimizers: dict[str, torch.optim.Optimizer],
    rng: dict[str, torch.Tensor],
    meta: dict[str, Any],
    modules: dict[str, torch.nn.Module] | None = None,
) -> None:
    """``modules``: networks that only training uses (InfoGAN-CR's pair classifier), saved by name beside G and D."""
    tensors = _module_tensors(model)
    for prefix, module in (modules or {}).items():
        tensors.update({f"{prefix}.{k}": v for k, v in module.state_dict().items()})
    groups = {}
    for name, opt in optimizers.items():
        sd = opt.state_dict()
        for idx, slots in sd["state"].items():
            tensors.update({f"optim.{name}.{idx}.{k}": v for k, v in slots.items() if torch.is_tensor(v)})
        groups[name] = sd["param_groups"]
    tensors.update({f"rng.{k}": v for k, v in rng.items()})
    _write(path, FORMAT, step, model, tensors, {"optim_groups": json.dumps(groups), "meta": json.dumps(meta)})


def save_model_file(path: Path, model: InfoGAN) -> None:
    """The weights of G and D/Q with the config and step, and no training state: a file to share."""
    _write(path, MODEL_FORMAT, model.step, model, _module_tensors(model), {})


def _module_tensors(model: InfoGAN) -> dict[str, torch.Tensor]:
    tensors: dict[str, torch.Tensor] = {}
    for prefix, module in (("G", model.generator), ("D", model.discriminator)):
        tensors.update({f"{prefix}.{k}": v for k, v in module.state_dict().items()})
    return tensors


def _write(path: Path, fmt: str, step: int, model: InfoGAN, tensors: dict[str, torch.Tensor], extra: dict[str, str]) -> None:
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    metadata = {
        "format": fmt,
        "version": str(VERSION),
        "step": str(step),
        "config": model.config.to_toml(),
        "net_kwargs": json.dumps(InfoGAN.net_kwargs(model.config, model.channels)),
        **extra,
        "sha256": tensors_digest(tensors),  # detects torn or bit-flipped files on load
    }
    atomic_write_bytes(path, _canonical(st_save(tensors, metadata)))


def _canonical(blob: bytes) -> bytes:
    """The same safetensors file with its JSON header keys sorted: safetensors writes them in
    hash order, and equal models should give equal bytes (so exports compare with ``cmp``)."""
    n = int.from_bytes(blob[:8], "little")
    header = json.dumps(json.loads(blob[8 : 8 + n]), sort_keys=True, separators=(",", ":")).encode()
    header += b" " * (-len(header) % 8)  # the data must stay 8-byte aligned
    return len(header).to_bytes(8, "little") + header + blob[8 + n :]


def load_checkpoint(path: Path) -> Checkpoint:
    """A training checkpoint, or a model file (whose optimizer and RNG state are empty)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        with safe_open(str(path), framework="pt") as f:
            md = f.metadata() or {}
            if md.get("format") not in (FORMAT, MODEL_FORMAT):
                raise CheckpointError(f"{path} is not an infogan checkpoint or model file")
            if int(md.get("version", "0")) > VERSION:
                raise CheckpointError(
                    f"{path} has checkpoint format {md['version']}, newer than this infogan reads ({VERSION}); upgrade infogan"
                )
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        if "sha256" not in md:
            raise CheckpointError(f"{path} has no checksum: it was written by a development version of infogan "
                                  "before checkpoints carried one; retrain it")
        if md["sha256"] != tensors_digest(tensors):
            raise CheckpointError(f"{path} is corrupt (its tensors do not match the checksum stored with them)")
        return Checkpoint(
            step=int(md["step"]),
            config=Config.from_toml(md["config"], f"{path} config"),
            net_kwargs=json.loads(md["net_kwargs"]),
            tensors=tensors,
            meta=json.loads(md.get("meta", "{}")),
            optim_groups=json.loads(md.get("optim_groups", "{}")),
        )
    except CheckpointError:
        raise
    except (SafetensorError, OSError, ValueError, KeyError, ConfigError) as e:
        raise CheckpointError(f"{path} is corrupt or unreadable ({type(e).__name__}: {str(e)[:120]})") from None


def load_weights(model: InfoGAN, ckpt: Checkpoint) -> InfoGAN:
    """Copy a checkpoint's weights into ``model`` (built from the same config)."""
    if ckpt.net_kwargs != InfoGAN.net_kwargs(model.config, model.channels):
        raise CheckpointError(f"checkpoint networks {ckpt.net_kwargs} differ from the model's; use the run's own config")
    try:
        model.generator.load_state_dict(ckpt.module_state("G"))
        model.discriminator.load_state_dict(ckpt.module_state("D"))
    except RuntimeError as e:
        raise CheckpointError(f"checkpoint weights do not match its config: {str(e).splitlines()[0]}") from None
    model.step = ckpt.step
    return model


def restore_model(ckpt: Checkpoint, device: torch.device | str = "cpu") -> InfoGAN:
    return load_weights(InfoGAN.build(ckpt.config, channels=ckpt.net_kwargs["channels"], device=device), ckpt)


def load_model(run_dir: str | Path, device: torch.device | str = "cpu") -> InfoGAN:
    """The newest trained model of a run directory (or a checkpoint or exported model file), ready for inference."""
    path = Path(run_dir)
    if not path.exists():
        raise CheckpointError(f"run directory {path} does not exist")
    ckpt = load_checkpoint(path) if path.is_file() else RunDir(path).load_latest()
    model = restore_model(ckpt, device)
    model.generator.eval()
    model.discriminator.eval()
    return model
