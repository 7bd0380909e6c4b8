"""Layers and the two module shapes every network family shares.

A family builds its layer lists with these helpers and hands them to :class:`Generator`
and :class:`Discriminator`, so the forward passes (and the state-dict names ``net.N``,
``body.N``, ``d_head``, ``q_head``) are the same for all families.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import nn

Output = Literal["sigmoid", "tanh"]
LEAK = 0.1  # the paper's lRELU leak rate for D (Appendix C)


def pick(kw: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The keyword arguments among ``names`` that ``kw`` sets."""
    return {k: kw[k] for k in names if k in kw}


def generator_kwargs(kw: dict[str, Any]) -> dict[str, Any]:
    """The generator's keyword arguments in a family of one fixed image size."""
    return pick(kw, ("input_dim", "channels", "output"))


def discriminator_kwargs(kw: dict[str, Any]) -> dict[str, Any]:
    """The discriminator's keyword arguments in a family of one fixed image size."""
    return pick(kw, ("q_dim", "channels"))


def activation(output: Output) -> nn.Module:
    if output not in ("sigmoid", "tanh"):
        raise TypeError(f"output must be sigmoid or tanh, got {output!r}")
    return nn.Sigmoid() if output == "sigmoid" else nn.Tanh()


def _conv(c_in: int, c_out: int, stride: int, bias: bool) -> list[nn.Module]:
    """4x4 conv: stride 2 halves the size; stride 1 keeps it, padded 1 before and 2 after as TF's SAME."""
    if stride == 2:
        return [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=bias)]
    return [nn.ZeroPad2d((1, 2, 1, 2)), nn.Conv2d(c_in, c_out, 4, 1, bias=bias)]


def conv(c_in: int, c_out: int, stride: int = 2, bn: bool = True, leak: float = LEAK) -> list[nn.Module]:
    """4x4 conv (see ``_conv``), [BN], lReLU."""
    layers = _conv(c_in, c_out, stride, bias=not bn)
    if bn:
        layers.append(nn.BatchNorm2d(c_out))
    return layers + [nn.LeakyReLU(leak, inplace=True)]


def upconv(c_in: int, c_out: int, stride: int = 2, bn: bool = True, act: nn.Module | None = None) -> list[nn.Module]:
    """4x4 up-convolution (stride 2 doubles the size), [BN], ReLU (or ``act``).

    A stride-1 transposed conv is a plain conv with a flipped kernel (same weights count); torch's
    transposed conv cannot keep an even-kernel size, so stride 1 is built as a SAME-padded conv."""
    layers = [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=not bn)] if stride == 2 else _conv(c_in, c_out, 1, not bn)
    if bn:
        layers.append(nn.BatchNorm2d(c_out))
    return layers + [act if act is not None else nn.ReLU(inplace=True)]


def fc(n_in: int, n_out: int, act: nn.Module, bn: bool = True) -> list[nn.Module]:
    """Fully connected, [BN], activation."""
    layers: list[nn.Module] = [nn.Linear(n_in, n_out, bias=not bn)]
    if bn:
        layers.append(nn.BatchNorm1d(n_out))
    return layers + [act]


def image_out(c_in: int, channels: int, output: Output) -> list[nn.Module]:
    """The generator's last 4x4 stride-2 up-convolution to image channels, squashed to the pixel range."""
    return [nn.ConvTranspose2d(c_in, channels, 4, 2, 1), activation(output)]


class _ToNCHW(torch.autograd.Function):
    """``x`` in NCHW order, its gradient back in ``x``'s own layout: the elementwise backward ops before a flatten
    (BatchNorm, lReLU) then see gradient and activation in one layout, their fast path (on a 2-core CPU, the
    lReLU backward of a 128x128x7x7 NHWC activation took 3.9 ms against an NCHW gradient)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.nhwc = x.dim() == 4 and not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last)
        return x.contiguous()

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        return grad.contiguous(memory_format=torch.channels_last) if ctx.nhwc else grad


class Flatten(nn.Flatten):
    """``nn.Flatten`` in NCHW order whatever the input's memory layout (the networks are built NHWC)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(_ToNCHW.apply(x))


def q_mlp(n_in: int, q_dim: int) -> nn.Sequential:
    """Q's own layers in paper Tables 1-3: FC 128, BN, lReLU, FC q_dim."""
    return nn.Sequential(*fc(n_in, 128, nn.LeakyReLU(LEAK, inplace=True)), nn.Linear(128, q_dim))


class Generator(nn.Module):
    def __init__(self, layers: list[nn.Module]):
        super().__init__()
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Discriminator(nn.Module):
    """D and Q in one module: they share ``body``, as in the paper."""

    def __init__(self, body: nn.Module, d_head: nn.Module, q_head: nn.Module):
        super().__init__()
        self.body, self.d_head, self.q_head = body, d_head, q_head

    def forward(self, x: torch.Tensor, q_from_detached_body: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the real/fake logit [N] and Q's raw output [N, q_dim].

        ``q_from_detached_body`` trains Q as a probe that cannot shape the shared body
        (the plain-GAN baseline, where the MI term must not act on D)."""
        h = self.body(x)
        return self.d_head(h).squeeze(1), self.q_head(h.detach() if q_from_detached_body else h)

    def q(self, x: torch.Tensor) -> torch.Tensor:
        """Q's raw output only (encoding real images, evaluation)."""
        return self.q_head(self.body(x))
