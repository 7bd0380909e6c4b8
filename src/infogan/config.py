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


def _key(default: Any, *, ge: float | None = None, gt: float | None = None, lt: float | None = None,
         resumable: bool = False) -> Any:
    """A config field with its default, the range ``Config.validate`` checks (``ge <= v``, ``gt < v``, ``v < lt``)
    and whether a resumed run may change it (``resumable``: how long and where it runs, never what it computes)."""
    return field(default=default, metadata={"ge": ge, "gt": gt, "lt": lt, "resumable": resumable})


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
    channels: int = _key(0, ge=0)  # image channels; 0: the data's (a preset that fixes them refuses other data)
    # for size-generic families (dcgan: 32, 64 or 128); 0 for the fixed-size paper families
    image_size: int = _key(0, ge=0)
    width: int = _key(0, ge=0)  # dcgan: channels of D's first conv (G mirrors it); 0: the family's default


@dataclass
class LossConfig:
    """Weights of the MI term; 0 for every code gives the plain-GAN baseline."""

    # Weight of L_I for the categorical codes (0: no MI pressure on them).
    lambda_cat: float = _key(1.0, ge=0)
    # with std = 1 fixed, lambda * log Q is a squared error at the GAN loss's scale
    lambda_cont: float = _key(1.0, ge=0)
    # Weight of Q's consistency on moved real images (categorical codes only; see infogan.objective).
    # 0 is the paper's objective.
    consistency: float = _key(0.0, ge=0)
    # real images per step that the term moves (the first ones of the batch); 0: all
    consistency_batch: int = _key(0, ge=0)
    # The consistency term's largest random rotation, in degrees (each image draws its own move).
    consistency_degrees: float = _key(15.0, ge=0)
    # Its largest shear.
    consistency_shear: float = _key(0.15, ge=0)
    # Its largest relative change of scale.
    consistency_scale: float = _key(0.1, ge=0, lt=1)
    # Its largest shift, as a share of the image's half-width.
    consistency_shift: float = _key(0.1, ge=0)
    # Weight of Q's information on real images, H(c) - H(c|x) of each categorical code over the real batch
    # (its first consistency_batch images when that is set): confident and balanced; see infogan.objective.
    # 0 is the paper's objective.
    real_info: float = _key(0.0, ge=0)
    # Weight of InfoGAN-CR's contrastive regulariser (Lin et al. 2020; infogan.objective): a network of its own learns
    # which code a pair of generated images shares, and G is trained to make that easy. 0: off.
    contrastive: float = _key(0.0, ge=0)
    # The step from which it acts; InfoGAN-CR turns it on late (step 288,000 of 320,000) to refine a trained model.
    contrastive_from: int = _key(0, ge=0)
    # Weight of the Hessian penalty (Peebles et al. 2020; infogan.objective): G's mixed second derivatives in each
    # pair of continuous codes, squared, so that each code changes the image whatever the others' values. 0: off.
    hessian: float = _key(0.0, ge=0)
    # Weight of the orthogonality penalty (infogan.objective): the squared cosine between the image changes that two
    # continuous codes make, so that each code moves the image in its own direction. 0: off.
    orthogonal: float = _key(0.0, ge=0)
    # The step from which these two penalties act: late enough, the categorical code has settled before they
    # start pulling the continuous codes apart.
    penalties_from: int = _key(0, ge=0)
    # Latents per step whose derivatives these two penalties take (the first ones of the batch), by central differences.
    hessian_batch: int = _key(16, ge=1)
    # The differences' step in code units (fp32: bf16 would drown them).
    hessian_eps: float = _key(0.1, gt=0)


@dataclass
class OptimConfig:
    # Adam learning rate of D and Q (their shared body and both heads).
    lr_d: float = _key(2e-4, gt=0)
    # Adam learning rate of G.
    lr_g: float = _key(1e-3, gt=0)
    # Adam's beta1 (0.5, as the official code).
    beta1: float = _key(0.5, ge=0, lt=1)
    # Adam's beta2.
    beta2: float = _key(0.999, ge=0, lt=1)
    # Images per step, the global batch: under torchrun each of N ranks takes batch_size / N.
    batch_size: int = _key(128, gt=0)


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
    # In memory or streamed, the batches are the same: a resumed run may switch.
    stream: Literal["auto", "memory", "disk"] = _key("auto", resumable=True)
    # 0: half of the machine's memory over its ranks, and at most half of a GPU's
    max_memory_mb: int = _key(0, ge=0, resumable=True)
    # processes decoding batches of data on disk; 0: up to 4, sharing the CPU cores with other ranks
    workers: int = _key(0, ge=0, resumable=True)


@dataclass
class TrainConfig:
    """Budget and bookkeeping. The first of steps / epochs / minutes that is set (> 0) ends training."""

    # Seeds the weights, the latents and the data order.
    seed: int = 0
    # Budget: train until this many steps in total; 0: not this budget.
    steps: int = _key(0, ge=0, resumable=True)
    # Budget: passes over the data; 0: not this budget.
    epochs: float = _key(0.0, ge=0, resumable=True)
    # Budget: wall time of this call, in minutes; 0: not this budget.
    minutes: float = _key(0.0, ge=0, resumable=True)
    # "auto" (cuda when there is one, else cpu), "cpu", "cuda" or "cuda:N".
    device: str = _key("auto", resumable=True)
    threads: int = _key(0, ge=0, resumable=True)  # 0: let torch choose
    # deterministic kernels only (bit-exact reruns and resumes, also on CUDA)
    deterministic: bool = _key(False, resumable=True)
    # "bf16": matmuls and convolutions under bfloat16 autocast; weights, optimizer state,
    # BatchNorm statistics and losses stay fp32. "auto": bf16 where the hardware computes it natively
    # (CUDA with bf16, or a CPU with AVX512_BF16 or AMX), else fp32.
    precision: Literal["auto", "fp32", "bf16"] = _key("auto", resumable=True)
    # Label-free selection (infogan.starts): train `starts` short starts of `start_steps` steps from different
    # initialisations, keep the one that `start_score` prefers, and go on with it. "stability": the start whose
    # categorical code best survives small moves of the real images; "agreement": the start whose categorical
    # code partitions the real images most like the other starts do.
    # The budget (steps/epochs/minutes) counts the kept start's own steps and time, not the others'; a step budget
    # of at most start_steps trains one start (nothing to select after).
    starts: int = _key(1, ge=1)
    # Steps each start trains before the choice.
    start_steps: int = _key(750, ge=1)
    # How the start that goes on is chosen: "stability" or "agreement" (above), or "centrality": the start whose
    # codes agree best with the other starts' codes, all codes (InfoGAN-CR's ModelCentrality; infogan.starts).
    start_score: Literal["stability", "agreement", "centrality"] = "stability"
    # A start whose stability reaches this is kept at once, the later starts not trained; 0: train every start.
    start_enough: float = _key(0.0, ge=0)
    # torch.compile G and D/Q: fused kernels, the same maths. Pays on GPUs; costs its compile time up front
    # and measured slower than eager on a 2-core CPU.
    compile: bool = _key(False, resumable=True)
    # Under torchrun, BatchNorm normalises over the global batch instead of each rank's slice (CUDA only).
    sync_batchnorm: bool = False
    # Steps between lines of metrics.jsonl (losses, L_I, images/s) and NaN/Inf checks.
    log_every: int = _key(50, ge=1)
    # also write RUN_DIR/tensorboard event files (pip install "infogan[tensorboard]")
    tensorboard: bool = _key(False, resumable=True)
    # Steps between sample grids (samples/) and traversal figures (figures/).
    sample_every: int = _key(500, ge=1)
    # Steps between disentanglement scores of Q on the training data's factors (FactorVAE, MIG, SAP, DCI on 5,000
    # images, into scores.jsonl; one also at the end), for data with factors such as dsprites; 0: none.
    score_every: int = _key(0, ge=0, resumable=True)
    # Steps between checkpoints (one also at the end, and on Ctrl-C or SIGTERM).
    checkpoint_every: int = _key(500, ge=1)
    # How many of the newest checkpoints are kept.
    keep_checkpoints: int = _key(3, ge=1)
    # On NaN/Inf: "stop", or "rollback" to the newest checkpoint with both learning rates
    # multiplied by rollback_lr_factor, at most max_rollbacks times.
    on_divergence: Literal["stop", "rollback"] = _key("stop", resumable=True)
    # With on_divergence = "rollback": the learning rates' factor at each rollback.
    rollback_lr_factor: float = _key(0.5, gt=0, lt=1, resumable=True)
    # With on_divergence = "rollback": rollbacks before the run stops.
    max_rollbacks: int = _key(3, ge=0, resumable=True)


@dataclass
class Config:
    latent: LatentConfig = field(default_factory=LatentConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def validate(self) -> "Config":
        """Check what the types alone do not: each key's range (``_key``), the codes, the device; raise ConfigError
        naming the key."""
        self.latent.spec()  # checks codes, dims and names
        for section in dataclasses.fields(self):
            for f in dataclasses.fields(getattr(self, section.name)):
                _check_range(f"{section.name}.{f.name}", getattr(getattr(self, section.name), f.name), f.metadata)
        if self.train.device not in ("auto", "cpu", "cuda") and not self.train.device.startswith("cuda:"):
            raise ConfigError(f"train.device must be auto, cpu or cuda, got {self.train.device!r}")
        if self.loss.contrastive and len(self.latent.codes) < 2:
            raise ConfigError("loss.contrastive tells apart which code a pair of images shares, so it needs at least "
                              "two latent codes; set loss.contrastive = 0 or add codes")
        for key, what in (("hessian", "how one continuous code's effect changes with another's"),
                          ("orthogonal", "two continuous codes' image changes that point the same way")):
            if getattr(self.loss, key) and sum(c.kind == "continuous" for c in self.latent.codes) < 2:
                raise ConfigError(f"loss.{key} penalises {what}, so it needs at least two continuous codes; "
                                  f"set loss.{key} = 0 or add codes")
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


def _check_range(key: str, value: Any, meta: typing.Mapping[str, Any]) -> None:
    ge, gt, lt = meta.get("ge"), meta.get("gt"), meta.get("lt")
    if (ge is None or value >= ge) and (gt is None or value > gt) and (lt is None or value < lt):
        return
    low = f"[{ge}" if ge is not None else f"({gt}"
    bound = f"in {low}, {lt})" if lt is not None else (f">= {ge}" if ge is not None else f"> {gt}")
    raise ConfigError(f"{key} must be {bound}, got {value}")


# ---- overrides: SECTION.KEY=VALUE, from --set and from the flags that stand for a key ------------------------
def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``--set`` items, ``section.key=value``, as typed values by key, each checked against its field's type. The
    value reads as TOML (``0.5``, ``true``, ``"x"``, ``[{name = "c1", kind = "continuous"}]``); a key that takes
    text takes the value as written (``train.device=cuda:1``)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key, raw = key.strip(), raw.strip()
        try:
            if not sep:
                raise ConfigError("expected SECTION.KEY=VALUE, e.g. loss.lambda_cont=0.5")
            hint = _key_type(key)
            try:
                value = tomllib.loads(f"v = {raw}")["v"]
            except tomllib.TOMLDecodeError:
                value = raw
            if _takes_text(hint) and not isinstance(value, str):
                value = raw
            out[key] = _coerce(hint, value, key)
        except ConfigError as e:
            raise ConfigError(f"--set {item}: {e}") from None
    return out


def apply_overrides(config: Config, overrides: dict[str, Any]) -> Config:
    """A copy of ``config`` with dotted keys (``loss.lambda_cat``) replaced, type-checked as TOML would be."""
    data = dataclasses.asdict(config)
    for key, value in overrides.items():
        _key_type(key)
        section, _, name = key.partition(".")
        data[section][name] = _as_toml(value)
    if any(k in overrides for k in ("train.steps", "train.epochs", "train.minutes")):
        # A budget given on the command line replaces the config's budget instead of racing it.
        for k in ("steps", "epochs", "minutes"):
            if f"train.{k}" not in overrides:
                data["train"][k] = 0
    return Config.from_dict(data)


def _as_toml(value: Any) -> Any:
    """An override's typed value as TOML reads it: parse_overrides makes a list of codes CodeConfigs, which
    from_dict and asdict(config) hold as tables."""
    return [dataclasses.asdict(v) if dataclasses.is_dataclass(v) else v for v in value] if isinstance(value, list) \
        else value


def check_resumable(config: Config, overrides: dict[str, Any]) -> None:
    """Refuse overrides that would change what a resumed run of ``config`` computes (keys not ``resumable``)."""
    current = dataclasses.asdict(config)
    changed = sorted(key for key, value in overrides.items() if not _field(key).metadata.get("resumable")
                     and current[key.split(".")[0]][key.split(".")[1]] != _as_toml(value))
    if changed:
        raise ConfigError(f"{changed[0]} cannot change when resuming; start a new run with another --out")


def _field(key: str) -> dataclasses.Field:
    """The dataclass field of ``section.key``; ConfigError naming the known ones when there is none."""
    section, _, name = key.partition(".")
    sections = {f.name: f for f in dataclasses.fields(Config)}
    if section not in sections:
        raise ConfigError(f"unknown config key {key}; sections: {', '.join(sections)}")
    fields = {f.name: f for f in dataclasses.fields(typing.get_type_hints(Config)[section])}
    if name not in fields:
        raise ConfigError(f"unknown config key {key}; known keys: {', '.join(sorted(fields))}")
    return fields[name]


def _key_type(key: str) -> Any:
    """The type of ``section.key`` (ConfigError when there is no such key)."""
    _field(key)
    section, _, name = key.partition(".")
    return typing.get_type_hints(typing.get_type_hints(Config)[section])[name]


def _takes_text(hint: Any) -> bool:
    literal_text = typing.get_origin(hint) is Literal and all(isinstance(a, str) for a in typing.get_args(hint))
    return hint is str or literal_text



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
    values (0 restores the paper's objective), with the consistency term's moves as wide as a digit's own slant and
    size vary (rotations to 25 degrees, shears to 0.3, scales and shifts to 0.15), so that a code value cannot split a
    digit by its slant or size; 1,500 steps. A start whose code is stable (0.97 of the real digits keep their value
    under small moves) after 1,000 steps goes on; else another start is trained, up to 3, and the most stable goes
    on. On the development seeds clean starts scored 0.984-0.988 at step 1,000 and starts that merged digits
    0.913-0.957."""
    return Config(
        latent=LatentConfig(noise_dim=62, codes=_codes(1, 10, 2, std="fixed")),
        loss=LossConfig(consistency=1.0, real_info=1.0, consistency_degrees=25.0, consistency_shear=0.3,
                        consistency_scale=0.15, consistency_shift=0.15),
        train=TrainConfig(steps=1500, starts=3, start_steps=1000, start_enough=0.97),
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


def shapes3d() -> Config:
    """The rendered 3D scene (64x64 colour; ``infogan.data.shapes3d``), this package's stand-in for the paper's 3D
    faces and chairs (Tables 4-7), which cannot be fetched here: the dSprites networks with 3 channels, and codes in
    the manner of Table 6 (categorical for a discrete factor beside continuous ones): Cat(4) for the four shapes and
    5 x Unif(-1, 1) for the three hues, the scale and the orientation, Q's std fixed at 1, with dSprites' lambda 0.05
    for the continuous codes and 1 for the categorical; on a random 100,000 of the 480,000 scenes (1.2 GB)."""
    cfg = dsprites()
    cfg.latent = LatentConfig(noise_dim=5, codes=_codes(1, 4, 5, std="fixed"))
    cfg.model.channels = 3
    cfg.data = DataConfig(name="shapes3d:n=100000")
    return cfg


def dsprites_cr() -> Config:
    """The dSprites preset with InfoGAN-CR's contrastive regulariser at its weight there, 2 (Lin et al., ICML 2020).
    They turn it on for the last 10% of a 320,000-step training; this preset acts from the first step, the only way a
    CPU-sized run sees it (set loss.contrastive_from for their schedule)."""
    cfg = dsprites()
    cfg.loss.contrastive = 2.0
    return cfg


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
    "shapes3d": shapes3d,
    "folder": folder,
}
# Methods beyond the paper's objective, on a paper experiment's networks and codes; their plain GAN is the experiment's.
_METHODS: dict[str, Callable[[], Config]] = {"dsprites-cr": dsprites_cr}
PRESETS = {**_EXPERIMENTS, **{f"{name}-gan": _plain_gan(make) for name, make in _EXPERIMENTS.items()}, **_METHODS}


def preset(name: str) -> Config:
    try:
        return PRESETS[name]()
    except KeyError:
        raise ConfigError(f"unknown preset {name!r}; known: {', '.join(PRESETS)}") from None
