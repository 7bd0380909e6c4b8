"""Typed run configuration, the paper's presets, and strict TOML round-trips.

A run directory stores its resolved :class:`Config` as ``config.toml``; reading it back
gives the same object, so the directory alone reproduces the run.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import tomli_w

from .codes import CodeSpec, LatentSpec
from .errors import ConfigError
from .files import atomic_write_bytes


@dataclass
class CodeConfig:
    # The code's name: cat0, c1... in traversals, --set, evaluation and the explorer.
    name: str
    # categorical: Cat(k), uniform over k values; continuous: Unif(-1, 1).
    kind: Literal["categorical", "continuous"]
    # Number of values of a categorical code (at least 2); 0 for a continuous one.
    k: int = 0
    # Q's Gaussian std for a continuous code. "fixed" (the official code's choice) measured
    # better on MNIST than a learned one, whose shrinking std lets c1/c2 steal digit identity.
    std: Literal["exp", "softplus", "fixed"] = "fixed"
    # Q's std for a continuous code when std is "fixed".
    fixed_std: float = 1.0


@dataclass
class LatentConfig:
    # Length of the incompressible noise z.
    noise_dim: int = 62
    # z's distribution: Unif(-1, 1) per entry, or a standard normal.
    noise: Literal["uniform", "normal"] = "uniform"
    # The latent codes c, in order: their layout in G's input and Q's output.
    codes: list[CodeConfig] = field(default_factory=list)

    def spec(self) -> LatentSpec:
        return LatentSpec(
            noise_dim=self.noise_dim,
            noise=self.noise,
            codes=tuple(CodeSpec(**dataclasses.asdict(c)) for c in self.codes),
        )


@dataclass
class ModelConfig:
    # Network family (infogan.nets): mnist, svhn, celeba, faces, chairs, dsprites or dcgan.
    family: str = "mnist"
    # G's last activation: sigmoid, images in [0, 1]; tanh, images in [-1, 1].
    output: Literal["sigmoid", "tanh"] = "sigmoid"
    channels: int = 0  # image channels; 0: the data's (a preset that fixes them refuses other data)
    image_size: int = 0  # for size-generic families (dcgan: 32, 64 or 128); 0 for the fixed-size paper families
    width: int = 0  # dcgan: channels of D's first conv (G mirrors it); 0: the family's default


@dataclass
class LossConfig:
    """Weights of the MI term; 0 for every code gives the plain-GAN baseline."""

    # Weight of L_I for the categorical codes (0: no MI pressure on them).
    lambda_cat: float = 1.0
    lambda_cont: float = 1.0  # with std = 1 fixed, lambda * log Q is a squared error at the GAN loss's scale
    # Weight of Q's consistency on moved real images (categorical codes only; see infogan.objective).
    # 0 is the paper's objective.
    consistency: float = 0.0
    consistency_batch: int = 0  # real images per step that the term moves (the first ones of the batch); 0: all
    # Weight of Q's information on real images, H(c) - H(c|x) of each categorical code over the real batch
    # (its first consistency_batch images when that is set): confident and balanced; see infogan.objective.
    # 0 is the paper's objective.
    real_info: float = 0.0


@dataclass
class OptimConfig:
    # Adam learning rate of D and Q (their shared body and both heads).
    lr_d: float = 2e-4
    # Adam learning rate of G.
    lr_g: float = 1e-3
    # Adam's beta1 (0.5, as the official code).
    beta1: float = 0.5
    # Adam's beta2.
    beta2: float = 0.999
    # Images per step, the global batch: under torchrun each of N ranks takes batch_size / N.
    batch_size: int = 128


@dataclass
class DataConfig:
    # Dataset and its options, e.g. "folder:size=64,channels=1" (infogan datasets lists them).
    name: str = "bundled"
    # Folder with the dataset's files; "": the download cache ($INFOGAN_DATA or ~/.cache/infogan).
    data_dir: str = ""
    # "train" or "test" (datasets that have a test split).
    split: str = "train"
    # Image files (folder, celeba): "auto" keeps them in memory up to max_memory_mb of decoded images and leaves
    # them on disk past that, decoded batch by batch; "memory" and "disk" force one (see infogan.data.stream).
    stream: Literal["auto", "memory", "disk"] = "auto"
    max_memory_mb: int = 0  # 0: half of the machine's memory over its ranks, and at most half of a GPU's
    workers: int = 0  # processes decoding batches of data on disk; 0: up to 4, sharing the CPU cores with other ranks


@dataclass
class TrainConfig:
    """Budget and bookkeeping. The first of steps / epochs / minutes that is set (> 0) ends training."""

    # Seeds the weights, the latents and the data order.
    seed: int = 0
    # Budget: train until this many steps in total; 0: not this budget.
    steps: int = 0
    # Budget: passes over the data; 0: not this budget.
    epochs: float = 0.0
    # Budget: wall time of this call, in minutes; 0: not this budget.
    minutes: float = 0.0
    # "auto" (cuda when there is one, else cpu), "cpu", "cuda" or "cuda:N".
    device: str = "auto"
    threads: int = 0  # 0: let torch choose
    deterministic: bool = False  # deterministic kernels only (bit-exact reruns and resumes, also on CUDA)
    # "bf16": matmuls and convolutions under bfloat16 autocast; weights, optimizer state,
    # BatchNorm statistics and losses stay fp32. "auto": bf16 where the hardware computes it natively
    # (CUDA with bf16, or a CPU with AVX512_BF16 or AMX), else fp32.
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    # Label-free selection (infogan.starts): train `starts` short starts of `start_steps` steps from different
    # initialisations, keep the one that `start_score` prefers, and go on with it. "stability": the start whose
    # categorical code best survives small moves of the real images; "agreement": the start whose categorical
    # code partitions the real images most like the other starts do.
    # The budget (steps/epochs/minutes) counts the kept start's own steps and time, not the others'; a step budget
    # of at most start_steps trains one start (nothing to select after).
    starts: int = 1
    # Steps each start trains before the choice.
    start_steps: int = 750
    # How the start that goes on is chosen: "stability" or "agreement" (above).
    start_score: Literal["stability", "agreement"] = "stability"
    # torch.compile G and D/Q: fused kernels, the same maths. Pays on GPUs; costs its compile time up front
    # and measured slower than eager on a 2-core CPU.
    compile: bool = False
    # Under torchrun, BatchNorm normalises over the global batch instead of each rank's slice (CUDA only).
    sync_batchnorm: bool = False
    # Steps between lines of metrics.jsonl (losses, L_I, images/s) and NaN/Inf checks.
    log_every: int = 50
    tensorboard: bool = False  # also write RUN_DIR/tensorboard event files (pip install "infogan[tensorboard]")
    # Steps between sample grids (samples/) and traversal figures (figures/).
    sample_every: int = 500
    # Steps between checkpoints (one also at the end, and on Ctrl-C or SIGTERM).
    checkpoint_every: int = 500
    # How many of the newest checkpoints are kept.
    keep_checkpoints: int = 3
    # On NaN/Inf: "stop", or "rollback" to the newest checkpoint with both learning rates
    # multiplied by rollback_lr_factor, at most max_rollbacks times.
    on_divergence: Literal["stop", "rollback"] = "stop"
    # With on_divergence = "rollback": the learning rates' factor at each rollback.
    rollback_lr_factor: float = 0.5
    # With on_divergence = "rollback": rollbacks before the run stops.
    max_rollbacks: int = 3


@dataclass
class Config:
    latent: LatentConfig = field(default_factory=LatentConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def validate(self) -> "Config":
        """Check ranges that the types alone do not; raise ConfigError naming the key."""
        self.latent.spec()  # checks codes, dims and names
        for key, value in (("loss.lambda_cat", self.loss.lambda_cat), ("loss.lambda_cont", self.loss.lambda_cont),
                           ("loss.consistency", self.loss.consistency), ("loss.real_info", self.loss.real_info)):
            if value < 0:
                raise ConfigError(f"{key} must be >= 0, got {value}")
        for key in ("channels", "image_size", "width"):
            if getattr(self.model, key) < 0:
                raise ConfigError(f"model.{key} must be >= 0, got {getattr(self.model, key)}")
        if self.loss.consistency_batch < 0:
            raise ConfigError(f"loss.consistency_batch must be >= 0, got {self.loss.consistency_batch}")
        for key in ("lr_d", "lr_g", "batch_size"):
            if getattr(self.optim, key) <= 0:
                raise ConfigError(f"optim.{key} must be > 0, got {getattr(self.optim, key)}")
        for key in ("beta1", "beta2"):
            if not 0 <= getattr(self.optim, key) < 1:
                raise ConfigError(f"optim.{key} must be in [0, 1), got {getattr(self.optim, key)}")
        for key in ("max_memory_mb", "workers"):
            if getattr(self.data, key) < 0:
                raise ConfigError(f"data.{key} must be >= 0, got {getattr(self.data, key)}")
        for key in ("steps", "epochs", "minutes", "threads"):
            if getattr(self.train, key) < 0:
                raise ConfigError(f"train.{key} must be >= 0, got {getattr(self.train, key)}")
        for key in ("log_every", "sample_every", "checkpoint_every", "keep_checkpoints", "starts", "start_steps"):
            if getattr(self.train, key) < 1:
                raise ConfigError(f"train.{key} must be >= 1, got {getattr(self.train, key)}")
        if not 0 < self.train.rollback_lr_factor < 1:
            raise ConfigError(f"train.rollback_lr_factor must be in (0, 1), got {self.train.rollback_lr_factor}")
        if self.train.max_rollbacks < 0:
            raise ConfigError(f"train.max_rollbacks must be >= 0, got {self.train.max_rollbacks}")
        if self.train.device not in ("auto", "cpu", "cuda") and not self.train.device.startswith("cuda:"):
            raise ConfigError(f"train.device must be auto, cpu or cuda, got {self.train.device!r}")
        return self

    # ---- TOML ---------------------------------------------------------------------
    def to_toml(self) -> str:
        return tomli_w.dumps(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Config":
        return _build(cls, data, "").validate()

    @classmethod
    def from_toml(cls, text: str, source: str = "config") -> "Config":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{source}: not valid TOML: {e}") from None
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | Path) -> "Config":
        path = Path(path)
        try:
            text = path.read_text()
        except OSError as e:
            raise ConfigError(f"cannot read config {path}: {e.strerror}") from None
        return cls.from_toml(text, str(path))

    def save(self, path: str | Path) -> None:
        atomic_write_bytes(Path(path), self.to_toml().encode())


def _build(cls: type, data: Any, where: str) -> Any:
    """Construct a dataclass from plain data, rejecting unknown keys and wrong types."""
    if not isinstance(data, dict):
        raise ConfigError(f"{where or 'config'} must be a table, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - fields)
    if unknown:
        key = unknown[0] if unknown[0].isprintable() else repr(unknown[0])  # keep the message on one line
        raise ConfigError(f"unknown config key {_join(where, key)}; known keys: {', '.join(sorted(fields))}")
    kwargs = {name: _coerce(hints[name], value, _join(where, name)) for name, value in data.items()}
    try:
        return cls(**kwargs)
    except TypeError as e:
        raise ConfigError(f"{where or 'config'}: {e}") from None


def _coerce(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, where)
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{where} must be a list, got {value!r}")
        (item,) = typing.get_args(hint)
        return [_coerce(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is Literal:
        allowed = typing.get_args(hint)
        if value not in allowed:
            raise ConfigError(f"{where} must be one of {', '.join(map(str, allowed))}; got {value!r}")
        return value
    if origin in (typing.Union, types.UnionType):
        raise TypeError(f"unsupported config type {hint}")  # keep configs flat and typed
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise ConfigError(f"{where} must be {hint.__name__}, got {value!r}")
    return value


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


# ---- presets ------------------------------------------------------------------------
# The InfoGAN paper's experiments (arXiv 1606.03657, Appendix C). Where the appendix says nothing
# the official code (github.com/openai/InfoGAN) decides: Adam beta1 0.5 and batch size 128.
# Appendix C: "Unless noted otherwise, learning rate is 2e-4 for D and 1e-3 for G; lambda is set
# to 1" (the OptimConfig and LossConfig defaults), and Q's std for a continuous code is "an
# exponential transformation of the network output" (std = "exp"); only the official MNIST
# launcher fixes it at 1. No preset but mnist sets a budget: the paper gives no training lengths.
# Tables 5 and 7 (one configuration per learned variation) are images in the paper; the rows used
# below match public re-implementations (kehuantiantang/InfoGAN-PyTorch, cemilcengiz/InfoGAN).


def _codes(
    n_cat: int, k: int, n_cont: int, std: Literal["exp", "softplus", "fixed"] = "exp"
) -> list[CodeConfig]:
    """``n_cat`` x Cat(k) named cat0, cat1, ..., then ``n_cont`` x Unif(-1, 1) numbered on: c{n_cat}, ..."""
    cats = [CodeConfig(f"cat{i}", "categorical", k=k) for i in range(n_cat)]
    return cats + [CodeConfig(f"c{n_cat + i}", "continuous", std=std) for i in range(n_cont)]


def mnist() -> Config:
    """Paper Table 1: 62 noise + Cat(10) + 2 x Unif(-1, 1); lr D 2e-4, G 1e-3, Adam beta1 0.5;
    continuous codes with Q's std fixed at 1 and lambda 1, as in the official code. Not in the paper:
    the consistency and real-information terms (weight 1 each), which stop similar digits from sharing code
    values (0 restores the paper's objective), and 4 starts of 750 steps, the most stable kept (1: no selection)."""
    return Config(
        latent=LatentConfig(noise_dim=62, codes=_codes(1, 10, 2, std="fixed")),
        loss=LossConfig(consistency=1.0, real_info=1.0),
        train=TrainConfig(minutes=9.0, starts=4, start_steps=750),
    )


def fashion_mnist() -> Config:
    """The MNIST preset (Table 1 networks and codes) on Fashion-MNIST's 28x28 grey images."""
    cfg = mnist()
    cfg.model.channels = 1
    cfg.data = DataConfig(name="fashion-mnist")
    return cfg


def svhn() -> Config:
    """Appendix C.2, Table 2: 124 noise + 4 x Cat(10) + 4 x Unif(-1, 1) (input 168), 32x32 colour, tanh."""
    return Config(
        latent=LatentConfig(noise_dim=124, codes=_codes(4, 10, 4)),
        model=ModelConfig(family="svhn", output="tanh", channels=3),
        data=DataConfig(name="svhn"),
    )


def celeba() -> Config:
    """Appendix C.3, Table 3: 128 noise + 10 x Cat(10) (input 228), 32x32 colour, tanh."""
    return Config(
        latent=LatentConfig(noise_dim=128, codes=_codes(10, 10, 0)),
        model=ModelConfig(family="celeba", output="tanh", channels=3),
        data=DataConfig(name="celeba"),
    )


def faces() -> Config:
    """Appendix C.4, Tables 4-5: 128 noise + 5 x Unif(-1, 1) (input 133), 32x32 grey, sigmoid, from an
    image folder (``folder:size=32,channels=1``). Table 5 gives one configuration per learned
    variation; this is its azimuth (pose) row: lr D 2e-4, G 5e-4, lambda 0.2."""
    return Config(
        latent=LatentConfig(noise_dim=128, codes=_codes(0, 0, 5)),
        model=ModelConfig(family="faces", output="sigmoid", channels=1),
        loss=LossConfig(lambda_cont=0.2),
        optim=OptimConfig(lr_d=2e-4, lr_g=5e-4),
        data=DataConfig(name="folder:size=32,channels=1"),
    )


def chairs() -> Config:
    """Appendix C.5, Tables 6-7: 128 noise + 3 x Cat(20) + 1 x Unif(-1, 1) (input 189), 64x64 grey,
    sigmoid, from an image folder (``folder:size=64,channels=1``). Table 7 gives one configuration per
    learned variation, with separate lambdas for continuous and discrete codes; this is its rotation
    row: lr D 2e-4, G 1e-3, lambda_cont 10, lambda_disc 1, batch 128."""
    return Config(
        latent=LatentConfig(noise_dim=128, codes=_codes(3, 20, 1)),
        model=ModelConfig(family="chairs", output="sigmoid", channels=1),
        loss=LossConfig(lambda_cat=1.0, lambda_cont=10.0),
        optim=OptimConfig(lr_d=2e-4, lr_g=1e-3, batch_size=128),
        data=DataConfig(name="folder:size=64,channels=1"),
    )


def dsprites() -> Config:
    """dSprites (64x64 grey; not in the InfoGAN paper) as InfoGAN-CR's InfoGAN baseline (Lin et al.,
    ICML 2020, github.com/fjxmlzn/InfoGAN-CR, InfoGAN-CR_dSprites/config.py): 5 noise + 5 x Unif(-1, 1)
    with Q's std fixed at 1, lambda 0.05, lr D 2e-3, G 1e-3, Adam beta1 0.5, batch 64, sigmoid."""
    return Config(
        latent=LatentConfig(noise_dim=5, codes=_codes(0, 0, 5, std="fixed")),
        model=ModelConfig(family="dsprites", output="sigmoid", channels=1),
        loss=LossConfig(lambda_cont=0.05),
        optim=OptimConfig(lr_d=2e-3, lr_g=1e-3, batch_size=64),
        data=DataConfig(name="dsprites"),
    )


def folder() -> Config:
    """Any image folder, with the size-generic dcgan family at 64x64 colour (set model.image_size to
    32 or 128 and model.channels to 1 for other folders). Not a paper experiment: the codes are the
    MNIST preset's (Cat(10) + 2 x Unif(-1, 1), std fixed) next to 128 noise, with the paper's defaults."""
    return Config(
        latent=LatentConfig(noise_dim=128, codes=_codes(1, 10, 2, std="fixed")),
        model=ModelConfig(family="dcgan", output="tanh", channels=3, image_size=64, width=64),
        data=DataConfig(name="folder"),
    )


def _plain_gan(make: Callable[[], Config]) -> Callable[[], Config]:
    """The plain-GAN baseline of a preset: the same networks with lambda = 0 (Q still trained as a probe)."""

    def make_gan() -> Config:
        cfg = make()
        cfg.loss = LossConfig(lambda_cat=0.0, lambda_cont=0.0)
        return cfg

    return make_gan


_EXPERIMENTS: dict[str, Callable[[], Config]] = {
    "mnist": mnist,
    "fashion-mnist": fashion_mnist,
    "svhn": svhn,
    "celeba": celeba,
    "faces": faces,
    "chairs": chairs,
    "dsprites": dsprites,
    "folder": folder,
}
PRESETS = {**_EXPERIMENTS, **{f"{name}-gan": _plain_gan(make) for name, make in _EXPERIMENTS.items()}}


def preset(name: str) -> Config:
    try:
        return PRESETS[name]()
    except KeyError:
        raise ConfigError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}") from None
