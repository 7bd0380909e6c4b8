"""The small digit classifier behind FD-digits, its held-out split and its shipped weights.

A few conv layers trained by ``scripts/train_digit_classifier.py`` on the bundled digits minus a
held-out split; its pooled penultimate features are what FD-digits compares. The weights ship
in the package as one safetensors file whose metadata records how they were made.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as st_save
from torch import nn

from ..errors import CheckpointError
from ..files import atomic_write_bytes
from ..runs import tensors_digest

WEIGHTS = Path(__file__).parent / "digit_classifier.safetensors"
FORMAT = "infogan-digit-classifier"
IMAGE_SHAPE = (1, 28, 28)
HELD_OUT_PER_CLASS = 100
SPLIT_SEED = 0


def _conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class DigitClassifier(nn.Module):
    """Three conv layers pooled down to 3x3, a dense layer to the 64 features, a linear layer to 10 logits.

    About 92k parameters: pooling to 3x3 before the dense layer keeps it small while every
    feature still sees the whole digit."""

    def __init__(self, n_classes: int = 10):
        super().__init__()
        self.body = nn.Sequential(
            _conv(1, 32), nn.MaxPool2d(2), _conv(32, 64), nn.MaxPool2d(2), _conv(64, 64), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 3 * 3, 64), nn.ReLU(),
        )
        self.head = nn.Linear(64, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def held_out_split(labels: np.ndarray, per_class: int = HELD_OUT_PER_CLASS, seed: int = SPLIT_SEED) -> tuple[np.ndarray, np.ndarray]:
    """(train, held-out) indices: ``per_class`` images of every label, drawn with a fixed seed, are held out."""
    rng = np.random.default_rng(seed)
    held = np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in np.unique(labels)])
    mask = np.zeros(len(labels), dtype=bool)
    mask[held] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


@dataclass(frozen=True)
class Embedding:
    features: np.ndarray  # [N, 64] float64, the pooled penultimate layer
    probs: np.ndarray  # [N, 10] softmax of the logits


@dataclass
class TrainedClassifier:
    net: DigitClassifier
    meta: dict[str, str]  # held-out accuracy, data hash, training command, ...

    @torch.no_grad()
    def embed(self, images: torch.Tensor, batch_size: int = 500) -> Embedding:
        """Features and class probabilities of images [N, 1, 28, 28]: uint8, or floats in [0, 1]."""
        if tuple(images.shape[1:]) != IMAGE_SHAPE:
            raise ValueError(f"the digit classifier takes [N, 1, 28, 28] images, got {list(images.shape)}")
        self.net.eval()
        feats, probs = [], []
        for b in images.split(batch_size):
            x = b.float() / 255.0 if b.dtype == torch.uint8 else b.float()
            f = self.net.body(x)
            feats.append(f.double())
            probs.append(torch.softmax(self.net.head(f), 1).double())
        return Embedding(torch.cat(feats).numpy(), torch.cat(probs).numpy())


def save_classifier(net: DigitClassifier, meta: dict[str, str], path: Path = WEIGHTS) -> None:
    tensors = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    metadata = {"format": FORMAT, **meta, "sha256": tensors_digest(tensors)}
    atomic_write_bytes(path, st_save(tensors, metadata))


@functools.lru_cache(maxsize=2)
def load_classifier(path: Path = WEIGHTS) -> TrainedClassifier:
    """The shipped classifier (checksum-verified; nothing is unpickled)."""
    fix = "reinstall infogan or retrain it with scripts/train_digit_classifier.py"
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = dict(f.metadata() or {})
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not iterable)
    except (SafetensorError, OSError) as e:
        raise CheckpointError(f"digit classifier weights {path} are missing or unreadable ({e}); {fix}") from None
    if meta.get("format") != FORMAT or meta.get("sha256") != tensors_digest(tensors):
        raise CheckpointError(f"digit classifier weights {path} are corrupt; {fix}")
    net = DigitClassifier()
    net.load_state_dict(tensors)
    return TrainedClassifier(net.eval(), meta)


def describe(meta: dict[str, str]) -> str:
    """One line on where the classifier's weights come from, for reports."""
    acc = float(meta.get("held_out_accuracy", "nan"))
    return (f"digit classifier scores {acc * 100:.2f}% on {meta.get('held_out', '?')} held-out bundled digits; "
            f"made by `{meta.get('command', '?')}` ({meta.get('train_seconds', '?')} s on the CPU)")
