"""Training: the paper's algorithm as a loop, with bookkeeping in small hooks.

Each iteration (``Trainer.train_step``):

1. take a minibatch of real images x;
2. sample noise z and codes c from their priors, generate G(z, c);
3. D/Q step: ascend log D(x) + log(1 - D(G(z, c))) + lambda L_I on D, Q and their shared body;
4. G step: descend -log D(G(z, c)) - lambda L_I on G (through the updated D and Q).

The fake batch of step 2 is reused by the G step; D's parameters are frozen while G's
gradient flows through it, so no weight gradient is computed that nothing uses.

Under torchrun (:mod:`infogan.distributed`) every rank runs this same step on its slice of the global
batch with its own latents, and G and D average their gradients over the ranks in backward.
"""

from __future__ import annotations

import functools
import hashlib
import math
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterable, Iterator

import torch

from .config import Config
from .data import ImageData, ImageFiles
from .data.stream import BatchReader, default_workers
from .distributed import ONE_PROCESS, World
from .errors import CheckpointError, ConfigError, DataError
from .augment import Moves, random_affine
from . import nets
from .model import InfoGAN
from .codes import Latent
from .objective import InfoGANObjective, Terms
from .runs import Checkpoint, load_weights, save_checkpoint


class Batches:
    """Shuffled minibatch indices over a dataset, one permutation per epoch.

    The last incomplete batch of an epoch is dropped so BatchNorm always sees full batches.
    Its whole state (permutation, cursor, epoch) goes into checkpoints for exact resume.

    ``batch_size`` is the global batch: each of ``ranks`` ranks draws the same permutations and takes its
    own slice of every batch, so the ranks never overlap and together see what one process would."""

    def __init__(self, n: int, batch_size: int, generator: torch.Generator, rank: int = 0, ranks: int = 1):
        if n < batch_size:
            raise DataError(f"the dataset has {n} images, fewer than one batch of {batch_size}; lower --batch-size")
        if batch_size % ranks:
            raise ConfigError(f"optim.batch_size {batch_size} does not split evenly over {ranks} ranks; "
                              f"use a multiple of {ranks}")
        self.n, self.batch_size, self.generator = n, batch_size, generator
        self.rank, self.ranks = rank, ranks
        self.epoch, self.cursor = 0, 0
        self.perm = torch.randperm(n, generator=generator, device=generator.device)

    @property
    def per_epoch(self) -> int:
        return self.n // self.batch_size

    def next(self) -> torch.Tensor:
        if self.cursor + self.batch_size > self.n:
            self.perm = torch.randperm(self.n, generator=self.generator, device=self.generator.device)
            self.cursor, self.epoch = 0, self.epoch + 1
        idx = self._slice(self.perm, self.cursor)
        self.cursor += self.batch_size
        return idx

    def upcoming(self, cursor: int) -> Iterator[torch.Tensor]:
        """This rank's batches of the current permutation from ``cursor`` to the epoch's end, as CPU indices,
        without taking them: what a reader decodes ahead."""
        perm = self.perm.cpu()
        return (self._slice(perm, c) for c in range(cursor, self.n - self.batch_size + 1, self.batch_size))

    def _slice(self, perm: torch.Tensor, cursor: int) -> torch.Tensor:
        return perm[cursor : cursor + self.batch_size].view(self.ranks, -1)[self.rank]


class InMemory:
    """Real images from the whole dataset, held on the device as uint8 (a quarter of float32)."""

    def __init__(self, images: torch.Tensor, batches: Batches, device: torch.device):
        self.images, self.batches = images.to(device), batches

    def next(self) -> torch.Tensor:
        return self.images[self.batches.next()]

    def close(self) -> None:
        """Nothing to release."""


class Streamed:
    """Real images decoded from their files by worker processes, a few batches ahead, in the order ``batches``
    takes them: the same order, RNG draws and checkpoints as in memory, so the same training."""

    def __init__(self, files: ImageFiles, batches: Batches, device: torch.device, workers: int):
        self.batches, self.device = batches, device
        self.reader = BatchReader(files, workers, pin_memory=device.type == "cuda")
        self._perm: torch.Tensor | None = None  # the permutation and cursor of the reader's next batch
        self._cursor = -1

    def next(self) -> torch.Tensor:
        b = self.batches
        b.next()  # the data order moves on as in memory (drawing a new permutation at an epoch's end)
        taken = b.cursor - b.batch_size
        if b.perm is not self._perm or taken != self._cursor:  # a new epoch or a restored checkpoint: read from here
            self.reader.start(b.upcoming(taken))
            self._perm = b.perm
        self._cursor = b.cursor
        return self.reader.next().to(self.device, non_blocking=True)

    def close(self) -> None:
        """Stop the worker processes."""
        self.reader.close()


@contextmanager
def frozen(*modules: torch.nn.Module | None) -> Iterator[None]:
    """Skip weight gradients of ``modules`` (None: none) while still back-propagating through them."""
    params = [p for m in modules if m is not None for p in m.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


@dataclass(frozen=True)
class StepOutput:
    d: Terms
    g: Terms
    h: torch.Tensor | None = None  # InfoGAN-CR's H loss on the step's fresh pairs, before H's update on them

    def scalars(self) -> dict[str, torch.Tensor]:
        """The step's terms that are logged, by their key in ``metrics.jsonl``: the one list that the metrics log
        writes, the ranks of a torchrun job average and TensorBoard plots. L_I is the D/Q step's."""
        d, g = self.d, self.g
        out = {"loss_d": d.loss, "loss_g": g.loss, "gan_d": d.gan, "gan_g": g.gan}
        if d.consistency is not None:
            out["consistency"] = d.consistency
        if d.real_info is not None:
            out["real_info"] = d.real_info
        if self.h is not None:
            out["contrastive"] = self.h
        if g.hessian is not None:
            out["hessian"] = g.hessian
        if g.orthogonal is not None:
            out["orthogonal"] = g.orthogonal
        return out | {f"mi/{name}": value for name, value in d.l_i.items()}


class DeviceWarning(UserWarning):
    """A checkpoint from another kind of device was resumed: the run goes on, but not bit-exactly."""


class Hook:
    """Called after every ``every``-th step, plus once at the start and once at the end; ``every = None``: only at
    the start and the end."""

    every: int | None = 1

    def start(self, trainer: "Trainer") -> None: ...

    def after_step(self, trainer: "Trainer", out: StepOutput) -> None: ...

    def end(self, trainer: "Trainer", completed: bool) -> None:
        """``completed``: the loop ended by its budget or a stop request, so the state is consistent."""


class Trainer:
    def __init__(self, config: Config, data: ImageData | ImageFiles, device: torch.device | str = "cpu",
                 world: World = ONE_PROCESS):
        config.validate()
        self.config = config
        self.device = torch.device(device)
        self.world = world
        torch.manual_seed(config.train.seed)  # network initialisation
        self.model = InfoGAN.build(config, channels=data.shape[0], device=self.device)
        self.model.check_data(data)
        # What each rank trains: DDP replicas under torchrun, the networks themselves in one process.
        sync_bn = config.train.sync_batchnorm
        self.g_replica = world.replicate(self.model.generator, self.device, sync_bn)
        self.d_replica = world.replicate(self.model.discriminator, self.device, sync_bn)
        # What the step calls: those, compiled when asked; D itself (no replica) for the G step, where it is frozen.
        net = torch.compile if config.train.compile else (lambda m: m)
        self.g_net, self.d_net, self.d_frozen = net(self.g_replica), net(self.d_replica), net(self.model.discriminator)
        o = config.optim
        adam = {"betas": (o.beta1, o.beta2), "fused": self.device.type in ("cpu", "cuda")}  # one kernel per step
        self.opt_d = torch.optim.Adam(self.model.discriminator.parameters(), lr=o.lr_d, **adam)
        self.opt_g = torch.optim.Adam(self.model.generator.parameters(), lr=o.lr_g, **adam)
        l = config.loss
        self.objective = InfoGANObjective(self.model.spec, l.lambda_cat, l.lambda_cont, l.consistency, l.real_info,
                                          l.contrastive, l.hessian, l.orthogonal)
        # InfoGAN-CR's pair classifier H, trained beside D at D's learning rate (as there), when its term is on.
        self.contrast = self.c_net = self.opt_c = None
        if l.contrastive:
            self.contrast = nets.build_contrast(
                config.model.family, len(self.model.spec.codes), **InfoGAN.net_kwargs(config, self.model.channels)
            ).to(self.device, memory_format=torch.channels_last)
            self.c_net = net(world.replicate(self.contrast, self.device, sync_bn))
            self.opt_c = torch.optim.Adam(self.contrast.parameters(), lr=o.lr_d, **adam)
        # how far the consistency term moves each real image
        self.moves = Moves(l.consistency_degrees, l.consistency_shear, l.consistency_scale, l.consistency_shift)
        # Forward passes under bf16 autocast when asked; backward follows the forward's dtypes.
        self.precision = resolve_precision(config.train.precision, self.device)
        self.autocast = functools.partial(
            torch.autocast, self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16"
        )
        # One generator drives latents and data order, so a run is a function of its seed. Under torchrun it
        # drives only the data order, the same on every rank, and each rank draws its latents from its own.
        self.rng = torch.Generator(device=self.device).manual_seed(config.train.seed)
        self.rank_rng = torch.Generator(device=self.device)
        self.batches = Batches(len(data), o.batch_size, self.rng, world.rank, world.size)
        # Where each batch of real images comes from: the whole dataset in memory, or image files left on disk.
        self.real = (InMemory(data.images, self.batches, self.device) if isinstance(data, ImageData)
                     else Streamed(data, self.batches, self.device, config.data.workers or default_workers()))
        self.step = 0
        self.elapsed = 0.0  # seconds of training so far, across resumes
        self.stop_requested = False  # set from a signal handler: stop cleanly after this step
        self.last_output: StepOutput | None = None

    # ---- the algorithm --------------------------------------------------------------
    def train_step(self) -> StepOutput:
        G, D, spec = self.g_net, self.d_net, self.model.spec
        self.model.generator.train()
        self.model.discriminator.train()
        x = self.model.to_net(self.real.next()).contiguous(memory_format=torch.channels_last)
        rng = self.latent_rng()
        latent = spec.sample(x.shape[0], rng, self.device)
        contrast = self.contrast is not None and self.step >= self.config.loss.contrastive_from
        inputs = [spec.generator_input(latent)]
        if contrast:  # InfoGAN-CR's pairs, generated in the same forward pass (one BatchNorm batch, one DDP pass)
            first, second, shared = spec.sample_pairs(x.shape[0], rng, self.device)
            inputs += [spec.generator_input(first), spec.generator_input(second)]
        with self.autocast():
            fake, *pair = G(torch.cat(inputs)).chunk(len(inputs)) if contrast else (G(inputs[0]),)

            d_real, q_real = D(x)
            d_fake, q_fake = D(fake.detach(), q_from_detached_body=self.objective.plain_gan)
            q_moved = None
            if self.objective.consistency_weight:
                n = self.config.loss.consistency_batch or len(x)
                q_real, q_moved = q_real[:n], D(random_affine(x[:n], self.rng, self.moves))[1]
            d_terms = self.objective.discriminator_loss(d_real, d_fake, q_fake, latent.codes, q_real, q_moved)
        self.opt_d.zero_grad(set_to_none=True)
        d_terms.loss.backward()
        self.opt_d.step()

        h_loss = self.h_step(pair[0].detach(), pair[1].detach(), shared) if contrast else None

        # D and H themselves, not their DDP replicas: those would wait for gradients of theirs
        with frozen(self.model.discriminator, self.contrast if contrast else None):
            with self.autocast():
                d_fake, q_fake = self.d_frozen(fake)
                pair_logits = self.contrast(*pair) if contrast else None
                hessian, orthogonal = self.code_penalties(latent)  # fp32 inside
                g_terms = self.objective.generator_loss(d_fake, q_fake, latent.codes, pair_logits,
                                                        shared if contrast else None, hessian, orthogonal)
            self.opt_g.zero_grad(set_to_none=True)
            g_terms.loss.backward()
        self.opt_g.step()

        self.step += 1
        return StepOutput(d_terms, g_terms, h_loss)

    def code_penalties(self, latent: Latent) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """The Hessian and orthogonality penalties (None where off) on the first ``loss.hessian_batch`` latents of
        the step, from one pass of G in fp32 over their central differences; none before ``loss.penalties_from``."""
        o, l = self.objective, self.config.loss
        if not (o.hessian_weight or o.orthogonal_weight) or self.step < l.penalties_from:
            return None, None
        head = latent[: l.hessian_batch]
        moved = o.mixed_partials(head, l.hessian_eps)
        spec = self.model.spec
        with torch.autocast(self.device.type, enabled=False):
            images = self.g_net(torch.cat([spec.generator_input(m) for m in moved]))
        n = len(head.z)
        return (o.hessian(images, n, l.hessian_eps) if o.hessian_weight else None,
                o.orthogonality(images, n) if o.orthogonal_weight else None)

    def h_step(self, first: torch.Tensor, second: torch.Tensor, shared: torch.Tensor) -> torch.Tensor:
        """InfoGAN-CR's H step: one update of H towards naming the code each pair of images shares; H's loss
        before it."""
        with self.autocast():
            loss = self.objective.contrastive(self.c_net(first, second), shared)
        self.opt_c.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_c.step()
        return loss.detach()

    @property
    def images(self) -> torch.Tensor:
        """The whole dataset on the device (in-memory data only)."""
        return self.real.images

    def latent_rng(self) -> torch.Generator:
        """The generator of this step's latents: the run's own in one process; under torchrun the rank's,
        seeded from (seed, rank, step), so that ranks differ and a resume on any number of them re-derives it."""
        if self.world.size == 1:
            return self.rng
        return self.rank_rng.manual_seed(self.world.latent_seed(self.config.train.seed, self.step))

    # ---- the loop -------------------------------------------------------------------
    def fit(self, *, steps: int | None = None, seconds: float | None = None, hooks: Iterable[Hook] = ()) -> None:
        """Train until ``steps`` total steps or ``seconds`` of wall time in this call, whichever first."""
        hooks = list(hooks)
        for h in hooks:
            h.start(self)
        t0 = time.perf_counter()
        start_elapsed = self.elapsed
        completed = False
        try:
            while self.world.all(  # all ranks stop together, whichever saw the signal or the clock first
                not self.stop_requested
                and (steps is None or self.step < steps)
                and (seconds is None or self.elapsed - start_elapsed < seconds)
            ):
                out = self.last_output = self.train_step()
                self.elapsed = start_elapsed + time.perf_counter() - t0
                for h in hooks:
                    if h.every is not None and self.step % h.every == 0:
                        h.after_step(self, out)
            self.stop_requested = self.world.any(self.stop_requested)  # a signal to one rank stopped them all
            completed = True
        finally:
            # After a divergence, a hard abort or a failure inside a step the state is not worth saving.
            for h in hooks:
                h.end(self, completed)

    # ---- checkpoints ----------------------------------------------------------------
    def save(self, path) -> None:
        rng = {"torch": torch.get_rng_state(), "train": self.rng.get_state(), "perm": self.batches.perm}
        meta = {"epoch": self.batches.epoch, "cursor": self.batches.cursor, "elapsed": self.elapsed,
                "device": self.device.type}  # whose generator state rng.train is
        optimizers = {"d": self.opt_d, "g": self.opt_g} | ({"c": self.opt_c} if self.opt_c else {})
        save_checkpoint(path, step=self.step, model=self.model, optimizers=optimizers, rng=rng, meta=meta,
                        modules={"C": self.contrast} if self.contrast else None)

    @classmethod
    def resume(
        cls, ckpt: Checkpoint, data: ImageData | ImageFiles, device: torch.device | str = "cpu",
        config: Config | None = None, world: World = ONE_PROCESS,
    ) -> "Trainer":
        """Continue from a checkpoint, on any number of ranks; ``config`` may change the budget and device, not
        the maths."""
        trainer = cls(config or ckpt.config, data, device, world)
        trainer.restore(ckpt)
        return trainer

    def restore(self, ckpt: Checkpoint) -> None:
        """Put weights, optimizer moments, RNG and data order back to a checkpoint of this run."""
        load_weights(self.model, ckpt)
        try:
            self.opt_d.load_state_dict(ckpt.optimizer_state("d"))
            self.opt_g.load_state_dict(ckpt.optimizer_state("g"))
            if self.contrast is not None:
                self.contrast.load_state_dict(ckpt.module_state("C"))
                self.opt_c.load_state_dict(ckpt.optimizer_state("c"))
            # Adam's moments back in their parameter's layout (NHWC): else the resumed steps round differently
            for opt in (o for o in (self.opt_d, self.opt_g, self.opt_c) if o is not None):
                for p, state in opt.state.items():
                    state.update({k: torch.empty_like(p).copy_(v) for k, v in state.items() if v.shape == p.shape})
            torch.set_rng_state(ckpt.tensors["rng.torch"])
            self._restore_rng(ckpt)
            perm = ckpt.tensors["rng.perm"].to(self.device)
        except (KeyError, ValueError, RuntimeError) as e:
            raise CheckpointError(f"checkpoint training state is incomplete or mismatched: {e}") from None
        if perm.numel() != self.batches.n:
            raise CheckpointError(
                f"checkpoint was trained on {perm.numel()} images but the data now has {self.batches.n}; use the same data"
            )
        self.batches.perm = perm
        self.batches.epoch = int(ckpt.meta["epoch"])
        self.batches.cursor = int(ckpt.meta["cursor"])
        self.step = ckpt.step
        self.elapsed = float(ckpt.meta["elapsed"])

    def _restore_rng(self, ckpt: Checkpoint) -> None:
        """The training generator back to the checkpoint's state. A state saved on another kind of device does not
        fit this one's generator (CUDA's is a seed and an offset, the CPU's a Mersenne Twister): the generator is then
        re-seeded from the seed and step, so the resume goes on, reproducibly, and a warning says it is not exact."""
        state = ckpt.tensors["rng.train"]
        if state.numel() == self.rng.get_state().numel():
            self.rng.set_state(state)
            return
        # Checkpoints record their device since cross-device resumes; an older one's is told by its state's size.
        was = ckpt.meta.get("device") or ("cpu" if state.numel() == torch.Generator().get_state().numel() else "a GPU")
        digest = hashlib.sha256(f"infogan-resume:{self.config.train.seed}:{ckpt.step}".encode()).digest()
        self.rng.manual_seed(int.from_bytes(digest[:8], "little") >> 1)  # torch seeds are < 2**63
        warnings.warn(f"step {ckpt.step} was trained on {was}: resuming on {self.device.type} with the training RNG "
                      f"re-seeded from the seed and step; the run goes on, but not exactly as on {was} (a resume is "
                      "bit-exact only on the kind of device that saved it)", DeviceWarning, stacklevel=2)

    def scale_learning_rates(self, factor: float) -> tuple[float, float]:
        """Multiply both learning rates (kept in the optimizer state, so checkpoints carry them)."""
        for opt in (self.opt_d, self.opt_g):
            for group in opt.param_groups:
                group["lr"] *= factor
        return self.opt_d.param_groups[0]["lr"], self.opt_g.param_groups[0]["lr"]

    def nonfinite(self) -> str | None:
        """The name of the first parameter holding NaN/Inf, or None (one device sync)."""
        params = [(f"{net}.{k}", p) for net, m in (("G", self.model.generator), ("D", self.model.discriminator))
                  for k, p in m.named_parameters()]
        ok = torch.stack([torch.isfinite(p).all() for _, p in params]).tolist()
        return next((name for (name, _), good in zip(params, ok) if not good), None)


def resolve_precision(precision: str, device: torch.device) -> str:
    """"auto" becomes bf16 where the hardware computes it natively, fp32 elsewhere (where bf16 would be
    emulated and slower)."""
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported(including_emulation=False) else "fp32"
    if device.type == "cpu":
        return "bf16" if _cpu_flags() & {"avx512_bf16", "amx_bf16"} else "fp32"
    return "fp32"


@functools.cache
def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo") as f:
            return {flag for line in f if line.startswith("flags") for flag in line.split(":", 1)[1].split()}
    except OSError:  # not Linux: no way to tell here, so stay exact
        return set()


def step_budget(config: Config, n_images: int) -> int | None:
    """Total steps from ``train.steps`` or ``train.epochs``; None when only minutes bound the run."""
    t = config.train
    if t.steps > 0:
        return t.steps
    if t.epochs > 0:
        return max(1, math.ceil(t.epochs * (n_images // config.optim.batch_size)))
    return None
