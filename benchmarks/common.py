"""What the benchmark scripts share: the machine flags, the training data and the step timer."""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

import torch

from infogan.data import ImageData, load_dataset


def add_machine_args(p: argparse.ArgumentParser, results: str) -> None:
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--results", type=Path, default=Path("benchmarks/results") / results, help="JSON lines appended here")


def apply_machine_args(args: argparse.Namespace) -> None:
    """Apply the machine flags: torch's threads, and the folder of the results file."""
    if args.threads:
        torch.set_num_threads(args.threads)
    args.results.parent.mkdir(parents=True, exist_ok=True)


def setup(args: argparse.Namespace) -> ImageData:
    """Apply the machine flags; return the bundled digits every benchmark trains on."""
    apply_machine_args(args)
    return load_dataset("bundled")


def sync(device: torch.device) -> None:
    """Wait for the device's queued work, so that a clock read after it counts it."""
    if device.type == "cuda":
        torch.cuda.synchronize()


def seconds_per_step(step: Callable[[], object], device: torch.device, seconds: float) -> float:
    """Seconds per call of ``step``, over at least ``seconds`` of calls after a warm-up of 5."""
    for _ in range(5):
        step()
    sync(device)
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        step()
        n += 1
    sync(device)
    return (time.perf_counter() - t0) / n
