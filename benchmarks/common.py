"""What the benchmark scripts share: the machine flags and the training data."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from infogan.data import ImageData, load_dataset


def add_machine_args(p: argparse.ArgumentParser, results: str) -> None:
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--results", type=Path, default=Path("benchmarks/results") / results, help="JSON lines appended here")


def setup(args: argparse.Namespace) -> ImageData:
    """Apply the machine flags; return the bundled digits every benchmark trains on."""
    if args.threads:
        torch.set_num_threads(args.threads)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    return load_dataset("bundled")
