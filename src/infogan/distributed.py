"""Where a process trains: its rank in a torchrun job, its device, and what keeps the ranks' replicas in step.

``torchrun --nproc-per-node N -m infogan train ...`` starts N processes (ranks) with RANK, LOCAL_RANK and
WORLD_SIZE in their environment. Each rank holds a whole replica of G and D/Q wrapped in
DistributedDataParallel, which averages the gradients over the ranks during backward, so the replicas stay
identical; each rank takes its own slice of every global batch and draws its own latents. A plain process is a
world of one, where every method here is a no-op.
"""

from __future__ import annotations

import atexit
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from .errors import ConfigError, DataError


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise DataError(f"--device {name} asked for, but no CUDA device is available; use --device cpu")
    return torch.device(name)


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0  # the rank's index on its machine: its GPU

    @classmethod
    def from_env(cls) -> World:
        """This process's place in the job torchrun started (a world of one without torchrun)."""
        if dist.is_available() and dist.is_initialized():
            return cls(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")))
        env = os.environ
        return cls(int(env.get("RANK", "0")), int(env.get("WORLD_SIZE", "1")), int(env.get("LOCAL_RANK", "0")))

    @property
    def is_main(self) -> bool:
        """Rank 0: the one that writes logs, figures and checkpoints."""
        return self.rank == 0

    def device(self, name: str) -> torch.device:
        """What ``--device`` means for this rank: under torchrun, auto and cuda take cuda:LOCAL_RANK."""
        device = resolve_device(name)
        if self.size == 1 or device.type != "cuda":
            return device
        if device.index is not None:
            raise ConfigError(f"--device {name} would put every rank on one GPU; use --device cuda (rank i takes "
                              "cuda:LOCAL_RANK)")
        if self.local_rank >= torch.cuda.device_count():
            raise ConfigError(f"local rank {self.local_rank} has no GPU (this machine has {torch.cuda.device_count()}); "
                              "lower --nproc-per-node")
        return torch.device("cuda", self.local_rank)

    def replicate(self, module: nn.Module, device: torch.device, sync_batchnorm: bool) -> nn.Module:
        """``module`` as this rank trains it: under torchrun a DDP wrapper (gradients averaged over the ranks
        in backward), with its BatchNorm layers made SyncBatchNorm in place when asked; in one process
        ``module`` itself. BatchNorm running statistics (used in eval mode only: samples, figures, evaluation)
        are rank 0's, which DDP broadcasts at each forward."""
        if self.size == 1:
            return module
        if sync_batchnorm:
            if device.type != "cuda":
                raise ConfigError("train.sync_batchnorm needs CUDA: torch's SyncBatchNorm has no CPU kernels; "
                                  "drop it or train with --device cuda")
            nn.SyncBatchNorm.convert_sync_batchnorm(module)  # in place: the networks are never a bare BatchNorm
        return nn.parallel.DistributedDataParallel(module, device_ids=[device.index] if device.type == "cuda" else None)

    def all(self, flag: bool) -> bool:
        """Whether ``flag`` holds on every rank, so that all ranks take the same decision (one CPU all-reduce)."""
        return self._reduce(flag, dist.ReduceOp.MIN) if self.size > 1 else flag

    def any(self, flag: bool) -> bool:
        """Whether ``flag`` holds on some rank (one CPU all-reduce)."""
        return self._reduce(flag, dist.ReduceOp.MAX) if self.size > 1 else flag

    @staticmethod
    def _reduce(flag: bool, op: dist.ReduceOp) -> bool:
        t = torch.tensor([int(flag)])
        dist.all_reduce(t, op=op)
        return bool(t.item())

    def broadcast(self, value: int) -> int:
        """Rank 0's ``value`` on every rank (one CPU broadcast), for a decision only rank 0 takes."""
        if self.size == 1:
            return value
        t = torch.tensor([value])
        dist.broadcast(t, 0)
        return int(t.item())

    def mean_(self, scalars: Sequence[torch.Tensor]) -> None:
        """Replace each scalar tensor by its mean over the ranks, in place (one all-reduce)."""
        if self.size == 1 or not scalars:
            return
        flat = torch.stack([t.detach().float().reshape(()) for t in scalars])
        dist.all_reduce(flat)
        for t, mean in zip(scalars, flat / self.size):
            t.detach().copy_(mean)

    def latent_seed(self, seed: int, step: int) -> int:
        """The seed of this rank's latents at ``step``: distinct per rank and step, so a resume (on any number of
        ranks) re-derives it instead of saving per-rank generator states."""
        digest = hashlib.sha256(f"infogan-latents:{seed}:{self.rank}:{step}".encode()).digest()
        return int.from_bytes(digest[:8], "little") >> 1  # torch seeds are < 2**63

    def join(self, device: torch.device) -> None:
        """Under torchrun, join the job's process group (once per process) with the backend for ``device``."""
        if self.size == 1:
            return
        if not dist.is_available():
            raise ConfigError("this torch build has no torch.distributed; train in one process")
        if dist.is_initialized():
            return
        if device.type == "cuda":
            torch.cuda.set_device(device)
        # gloo carries the CPU tensors (the per-step stop decision, which must not wait on the GPU), nccl the rest.
        dist.init_process_group("cpu:gloo,cuda:nccl" if device.type == "cuda" else "gloo")
        atexit.register(dist.destroy_process_group)


ONE_PROCESS = World()  # a plain process: rank 0 of 1
