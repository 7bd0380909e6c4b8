"""Typed run configuration, the paper's presets, and strict TOML round-trips.

A run directory stores its resolved :class:`Config` as ``config.toml``; reading it back
gives the same object, so the directory alone reproduces the run.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import tomli_w

from .codes import CodeSpec, LatentSpec
from .errors import ConfigError
from .files import atomic_write_bytes


@dataclass
class CodeConfig:
    name: str
    kind: Literal["categorical", "continuous"]
    k: int = 0
    # Q's Gaussian std for a continuous code. "fixed" (the official code's choice) measured
    # better on MNIST than a learned one, whose shrinking std lets c1/c2 steal digit identity.
    std: Literal["exp", "softplus", "fixed"] = "fixed"
    fixed_std: float = 1.0


@dataclass
class LatentConfig:
    noise_dim: int = 62
    noise: Literal["uniform", "normal"] = "uniform"
    codes: list[CodeConfig] = field(default_factory=list)

    def spec(self) -> LatentSpec:
        return LatentSpec(
            noise_dim=self.noise_dim,
            noise=self.noise,
            codes=tuple(CodeSpec(**dataclasses.asdict(c)) for c in self.codes),
        )


@dataclass
class ModelConfig:
    family: str = "mnist"
    output: Literal["sigmoid", "tanh"] = "sigmoid"


@dataclass
class LossConfig:
    """Weights of the MI term; 0 for every code gives the plain-GAN baseline."""

    lambda_cat: float = 1.0
    lambda_cont: float = 1.0  # with std = 1 fixed, lambda * log Q is a squared error at the GAN loss's scale


@dataclass
class OptimConfig:
    lr_d: float = 2e-4
    lr_g: float = 1e-3
    beta1: float = 0.5
    beta2: float = 0.999
    batch_size: int = 128


@dataclass
class DataConfig:
    name: str = "bundled"
    data_dir: str = ""
    split: str = "train"


@dataclass
class TrainConfig:
    """Budget and bookkeeping. The first of steps / epochs / minutes that is set (> 0) ends training."""

    seed: int = 0
    steps: int = 0
    epochs: float = 0.0
    minutes: float = 0.0
    device: str = "auto"
    threads: int = 0  # 0: let torch choose
    deterministic: bool = False  # deterministic kernels only (bit-exact reruns and resumes, also on CUDA)
    log_every: int = 50
    sample_every: int = 500
    checkpoint_every: int = 500
    keep_checkpoints: int = 3


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
        for key, value in (("loss.lambda_cat", self.loss.lambda_cat), ("loss.lambda_cont", self.loss.lambda_cont)):
            if value < 0:
                raise ConfigError(f"{key} must be >= 0, got {value}")
        for key in ("lr_d", "lr_g", "batch_size"):
            if getattr(self.optim, key) <= 0:
                raise ConfigError(f"optim.{key} must be > 0, got {getattr(self.optim, key)}")
        for key in ("beta1", "beta2"):
            if not 0 <= getattr(self.optim, key) < 1:
                raise ConfigError(f"optim.{key} must be in [0, 1), got {getattr(self.optim, key)}")
        for key in ("steps", "epochs", "minutes", "threads"):
            if getattr(self.train, key) < 0:
                raise ConfigError(f"train.{key} must be >= 0, got {getattr(self.train, key)}")
        for key in ("log_every", "sample_every", "checkpoint_every", "keep_checkpoints"):
            if getattr(self.train, key) < 1:
                raise ConfigError(f"train.{key} must be >= 1, got {getattr(self.train, key)}")
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
def mnist() -> Config:
    """Paper Table 1: 62 noise + Cat(10) + 2 x Unif(-1, 1); lr D 2e-4, G 1e-3, Adam beta1 0.5;
    continuous codes with Q's std fixed at 1 and lambda 1, as in the official code."""
    return Config(
        latent=LatentConfig(
            noise_dim=62,
            codes=[
                CodeConfig("cat0", "categorical", k=10),
                CodeConfig("c1", "continuous"),
                CodeConfig("c2", "continuous"),
            ],
        ),
        train=TrainConfig(minutes=9.0),
    )


def mnist_gan() -> Config:
    """The plain-GAN baseline: MNIST networks with lambda = 0 (Q still trained as a probe)."""
    cfg = mnist()
    cfg.loss = LossConfig(lambda_cat=0.0, lambda_cont=0.0)
    return cfg


PRESETS = {"mnist": mnist, "mnist-gan": mnist_gan}


def preset(name: str) -> Config:
    try:
        return PRESETS[name]()
    except KeyError:
        raise ConfigError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}") from None
