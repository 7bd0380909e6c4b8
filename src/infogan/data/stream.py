"""Data left on disk: when image files stream instead of sitting in memory, and the worker processes that decode
their batches ahead of the training step.

The switch point. In memory, a dataset is decoded once and kept as uint8, N x C x H x W bytes, on the training
device (and in host memory while it loads); every rank of a torchrun job holds its own copy. ``data.stream = "auto"``
keeps it there while it fits `memory_budget`: ``data.max_memory_mb``, by default half of the machine's memory (its
cgroup's limit in a container) shared by the ranks on the machine, and on a GPU also at most half of the GPU's
memory. Past that, or with ``data.stream = "disk"``, image files (folder, celeba) stay on disk and ``data.workers``
processes decode each batch, a few batches ahead, with the same code as the in-memory load. The other datasets
(IDX, SVHN, dSprites) are always loaded whole.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterable, Iterator
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from infogan.data.folder import ImageFiles
from infogan.errors import DataError

_CGROUP_LIMITS = (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"))


def _ranks_here() -> int:
    """Ranks of a torchrun job on this machine (torchrun sets LOCAL_WORLD_SIZE); 1 without torchrun."""
    return max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))


def host_memory() -> int | None:
    """Bytes of memory this process may use: the machine's, or its cgroup's limit if lower; None if unknown."""
    limits = []
    try:
        limits.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, ValueError, OSError):  # not a POSIX system
        pass
    for path in _CGROUP_LIMITS:
        try:
            limits.append(int(path.read_text()))
        except (OSError, ValueError):  # no such cgroup, or "max"
            pass
    return min(limits, default=None)


def memory_budget(max_memory_mb: int, device: torch.device) -> int | None:
    """Bytes of decoded images this rank keeps in memory at most: ``max_memory_mb``, or when it is 0 half of
    `host_memory` over the ranks on this machine and, on a GPU, at most half of its memory; None if unknown."""
    if max_memory_mb > 0:
        return max_memory_mb << 20
    limits = []
    if (host := host_memory()) is not None:
        limits.append(host // 2 // _ranks_here())
    if device.type == "cuda":
        limits.append(torch.cuda.get_device_properties(device).total_memory // 2)
    return min(limits, default=None)


def default_workers() -> int:
    """Decoding processes per rank when ``data.workers`` is 0: up to 4, sharing the CPU cores with the other ranks."""
    return max(1, min(4, (os.cpu_count() or 1) // _ranks_here()))


class BatchReader:
    """Index batches of `ImageFiles` decoded in worker processes, ahead of time and in order.

    `start` says which batches to read from now on (dropping those in flight), `next` returns the next one as
    uint8 [B, C, H, W]. The workers live until `close`, across `start`s.
    """

    def __init__(self, files: ImageFiles, workers: int, pin_memory: bool = False):
        self._order = _Order()
        self._loader: DataLoader | None = DataLoader(
            _Decode(files), batch_size=None, sampler=self._order, num_workers=workers, persistent_workers=True,
            prefetch_factor=2, pin_memory=pin_memory, worker_init_fn=_ignore_sigint,
            generator=torch.Generator(),  # its seeds for the workers, drawn from the global RNG otherwise
        )
        self._batches: Iterator[torch.Tensor | str] | None = None

    def start(self, batches: Iterable[torch.Tensor]) -> None:
        if self._loader is None:
            raise RuntimeError("BatchReader used after close()")
        self._order.batches = batches
        self._batches = iter(self._loader)

    def next(self) -> torch.Tensor:
        if self._batches is None:
            raise RuntimeError("BatchReader.next() before start()")
        batch = next(self._batches)
        if isinstance(batch, str):
            raise DataError(batch)
        return batch

    def close(self) -> None:
        # The last references to the loader and its iterator: the iterator's finaliser stops the workers.
        self._loader = self._batches = None


class _Order(Sampler):
    """The index batches `BatchReader.start` was given, each one item of the loader (as a list: a tensor would move
    its whole storage into shared memory on its way to a worker)."""

    batches: Iterable[torch.Tensor] = ()

    def __iter__(self) -> Iterator[list[int]]:
        return (indices.tolist() for indices in self.batches)


class _Decode(Dataset):
    def __init__(self, files: ImageFiles):
        self.files = files

    def __getitem__(self, indices: list[int]) -> torch.Tensor | str:
        try:
            return torch.from_numpy(self.files.read(indices))
        except DataError as e:  # as a value: raised in a worker, the loader would wrap it in a traceback
            return str(e)


def _ignore_sigint(worker: int) -> None:
    # Ctrl-C reaches the whole process group; the training process stops after its step, and its workers must
    # keep serving until it closes them.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
