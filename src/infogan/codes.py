"""The latent-code spec: one object that knows everything about z and c.

Generator input, Q head size, MI loss, metrics and plots all read the layout from
:class:`LatentSpec`, so a code is declared once and every consumer agrees on it.

Layout of the generator input: ``[z | code_0 | code_1 | ...]`` where a categorical
code takes ``k`` one-hot columns and a continuous code one column.
Layout of Q's output: per code in the same order, ``k`` logits for a categorical
code; for a continuous code its Gaussian mean, followed by one raw scale column
unless the std is fixed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import torch
import torch.nn.functional as F

from .errors import ConfigError

CodeKind = Literal["categorical", "continuous"]
StdMode = Literal["exp", "softplus", "fixed"]
NoiseDist = Literal["uniform", "normal"]

_LOG_2PI = math.log(2 * math.pi)
# Keeps a learned Gaussian std in a range where log Q stays finite and gradients sane.
_MIN_STD, _MAX_STD = 1e-3, 1e3


@dataclass(frozen=True)
class CodeSpec:
    """One latent code: ``categorical`` with ``k`` values, or ``continuous`` ~ Unif(-1, 1).

    For a continuous code Q predicts a Gaussian; ``std`` says how its standard
    deviation is produced: ``exp`` or ``softplus`` of a learned output, or ``fixed``
    at ``fixed_std`` (the official InfoGAN code's default, 1.0).
    """

    name: str
    kind: CodeKind
    k: int = 0
    std: StdMode = "fixed"
    fixed_std: float = 1.0

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ConfigError(f"code name {self.name!r} must be an identifier (letters, digits, _)")
        if self.kind == "categorical":
            if self.k < 2:
                raise ConfigError(f"categorical code {self.name!r} needs k >= 2 categories, got {self.k}")
        elif self.kind == "continuous":
            if self.std not in ("exp", "softplus", "fixed"):
                raise ConfigError(f"code {self.name!r}: std must be exp, softplus or fixed, got {self.std!r}")
            if not self.fixed_std > 0:
                raise ConfigError(f"code {self.name!r}: fixed_std must be > 0, got {self.fixed_std}")
        else:
            raise ConfigError(f"code {self.name!r}: kind must be categorical or continuous, got {self.kind!r}")

    @property
    def categorical(self) -> bool:
        return self.kind == "categorical"

    @property
    def input_width(self) -> int:
        """Columns this code takes in the generator input."""
        return self.k if self.categorical else 1

    @property
    def q_width(self) -> int:
        """Columns this code takes in Q's output."""
        if self.categorical:
            return self.k
        return 1 if self.std == "fixed" else 2

    @property
    def entropy(self) -> float:
        """Prior entropy H(c) in nats: ln k, or ln 2 (differential) for Unif(-1, 1)."""
        return math.log(self.k) if self.categorical else math.log(2.0)

    @property
    def l_i_ceiling(self) -> float:
        """The most L_I = H(c) + E[log Q(c|x)] can reach for this code with this Q, in nats: Q's best log-likelihood
        is that of a Q certain of every value. Categorical: log Q <= 0, so H(c) = ln k. Continuous: a Gaussian of
        std s has log-density at most -ln(2 pi s^2) / 2, at its mean; with the std fixed at s that caps L_I at
        ln 2 - ln(2 pi s^2) / 2 (-0.226 nats for s = 1, below H(c) however well Q reads c), and a learned std is
        capped only by its clamp at _MIN_STD (6.68 nats; the differential I(c; x) itself has no ceiling)."""
        if self.categorical:
            return self.entropy
        s = self.fixed_std if self.std == "fixed" else _MIN_STD
        return self.entropy - 0.5 * math.log(2 * math.pi * s * s)


@dataclass(frozen=True)
class Latent:
    """A sampled batch: the noise and each code's target (class index or value)."""

    z: torch.Tensor
    codes: dict[str, torch.Tensor]

    def __getitem__(self, rows: slice | torch.Tensor) -> "Latent":
        """The batch's ``rows``: z and every code alike."""
        return Latent(self.z[rows], {name: v[rows] for name, v in self.codes.items()})


@dataclass(frozen=True)
class QStats:
    """Q's distribution parameters for one code: ``logits``, or ``mean`` and ``std``."""

    logits: torch.Tensor | None = None
    mean: torch.Tensor | None = None
    std: torch.Tensor | None = None


@dataclass(frozen=True)
class LatentSpec:
    noise_dim: int
    codes: tuple[CodeSpec, ...] = field(default_factory=tuple)
    noise: NoiseDist = "uniform"

    def __post_init__(self) -> None:
        if self.noise_dim < 0:
            raise ConfigError(f"noise_dim must be >= 0, got {self.noise_dim}")
        if self.noise not in ("uniform", "normal"):
            raise ConfigError(f"noise must be uniform or normal, got {self.noise!r}")
        names = [c.name for c in self.codes]
        if len(set(names)) != len(names):
            raise ConfigError(f"code names must be unique, got {names}")
        if self.input_dim == 0:
            raise ConfigError("the generator needs at least one input: set noise_dim > 0 or add a code")

    # ---- layout -------------------------------------------------------------------
    @property
    def input_dim(self) -> int:
        return self.noise_dim + sum(c.input_width for c in self.codes)

    @property
    def q_dim(self) -> int:
        return sum(c.q_width for c in self.codes)

    def code(self, name: str) -> CodeSpec:
        for c in self.codes:
            if c.name == name:
                return c
        raise ConfigError(f"no code named {name!r}; codes are {[c.name for c in self.codes]}")

    # ---- sampling -----------------------------------------------------------------
    def sample_noise(self, n: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        shape = (n, self.noise_dim)
        if self.noise == "uniform":
            return torch.rand(shape, generator=generator, device=device) * 2 - 1
        return torch.randn(shape, generator=generator, device=device)

    def sample_code(self, code: CodeSpec, n: int, generator=None, device=None) -> torch.Tensor:
        if code.categorical:
            return torch.randint(code.k, (n,), generator=generator, device=device)
        return torch.rand((n,), generator=generator, device=device) * 2 - 1

    def sample(self, n: int, generator: torch.Generator | None = None, device=None) -> Latent:
        """Draw z and every code from its prior."""
        z = self.sample_noise(n, generator, device)
        return Latent(z, {c.name: self.sample_code(c, n, generator, device) for c in self.codes})

    def sample_pairs(self, n: int, generator: torch.Generator | None = None, device=None
                     ) -> tuple[Latent, Latent, torch.Tensor]:
        """InfoGAN-CR's contrastive pairs: two independent draws of z and every code, except that in pair i the code
        ``shared[i]`` (an index into ``codes``, uniform) takes the same value in both halves."""
        if not self.codes:
            raise ConfigError("contrastive pairs need at least one latent code")
        shared = torch.randint(len(self.codes), (n,), generator=generator, device=device)
        a, b = self.sample(n, generator, device), self.sample(n, generator, device)
        same = {c.name: torch.where(shared == i, a.codes[c.name], b.codes[c.name]) for i, c in enumerate(self.codes)}
        return a, Latent(b.z, same), shared

    def generator_input(self, latent: Latent) -> torch.Tensor:
        """Concatenate z with each code (one-hot for categorical) in spec order."""
        parts = [latent.z]
        for c in self.codes:
            v = latent.codes[c.name]
            parts.append(F.one_hot(v, c.k).to(latent.z.dtype) if c.categorical else v.to(latent.z.dtype)[:, None])
        return torch.cat(parts, dim=1)

    # ---- Q's outputs ----------------------------------------------------------------
    def split_q(self, q_out: torch.Tensor) -> dict[str, QStats]:
        """Cut Q's raw output into per-code distribution parameters."""
        if q_out.shape[-1] != self.q_dim:
            raise ValueError(f"Q output has {q_out.shape[-1]} columns, spec needs {self.q_dim}")
        stats, i = {}, 0
        for c in self.codes:
            block = q_out[:, i : i + c.q_width]
            i += c.q_width
            if c.categorical:
                stats[c.name] = QStats(logits=block)
                continue
            mean = block[:, 0]
            if c.std == "fixed":
                std = torch.full_like(mean, c.fixed_std)
            elif c.std == "exp":
                std = torch.exp(block[:, 1].clamp(math.log(_MIN_STD), math.log(_MAX_STD)))
            else:
                std = F.softplus(block[:, 1]).clamp(_MIN_STD, _MAX_STD)
            stats[c.name] = QStats(mean=mean, std=std)
        return stats

    def log_q(self, q_out: torch.Tensor, targets: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Per-sample log Q(c|x) of each code's target, shape [N] per code."""
        out = {}
        for c, s in zip(self.codes, self.split_q(q_out).values()):
            t = targets[c.name]
            if c.categorical:
                out[c.name] = -F.cross_entropy(s.logits.float(), t, reduction="none")
            else:
                mean, std = s.mean.float(), s.std.float()
                out[c.name] = -0.5 * _LOG_2PI - torch.log(std) - 0.5 * ((t - mean) / std) ** 2
        return out

    def mi_lower_bound(self, log_q: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """L_I per code from ``log_q``'s per-sample values: H(c) + E[log Q(c|x)], a lower bound on I(c; x)."""
        return {name: self.code(name).entropy + lq.mean() for name, lq in log_q.items()}

    def point_estimate(self, q_out: torch.Tensor) -> dict[str, torch.Tensor]:
        """Q's most likely value of each code: the argmax class or the Gaussian mean."""
        return {
            name: (s.logits.argmax(dim=1) if s.logits is not None else s.mean)
            for name, s in self.split_q(q_out).items()
        }
