"""Figures: image grids, code traversals (the paper's Figure 2) and L_I curves (Figure 1)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .codes import CodeSpec, Latent
from .errors import ConfigError
from .files import atomic_write_bytes
from .model import InfoGAN


def grid(images: torch.Tensor, ncol: int, pad: int = 2, scale: int = 1) -> Image.Image:
    """Tile [N, C, H, W] images in [0, 1] row-major into one picture with white gutters."""
    n, c, h, w = images.shape
    nrow = -(-n // ncol)
    canvas = np.ones((nrow * (h + pad) + pad, ncol * (w + pad) + pad, c), dtype=np.float32)
    arr = images.detach().float().cpu().clamp(0, 1).permute(0, 2, 3, 1).numpy()
    for i in range(n):
        r, col = divmod(i, ncol)
        y, x = pad + r * (h + pad), pad + col * (w + pad)
        canvas[y : y + h, x : x + w] = arr[i]
    pixels = (canvas * 255).round().astype(np.uint8)
    img = Image.fromarray(pixels[..., 0] if c == 1 else pixels, "L" if c == 1 else "RGB")
    return img.resize((img.width * scale, img.height * scale), Image.NEAREST) if scale > 1 else img


def save_png(img: Image.Image, path: str | Path) -> None:
    atomic_write_bytes(Path(path), png_bytes(img))


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def parse_assignments(model: InfoGAN, assignments: list[str]) -> dict[str, float | int]:
    """Parse ``NAME=VALUE`` code settings, checking the name and the value's range."""
    out: dict[str, float | int] = {}
    for item in assignments:
        name, sep, raw = item.partition("=")
        if not sep:
            raise ConfigError(f"--set expects NAME=VALUE, got {item!r}")
        code = model.spec.code(name.strip())
        try:
            value = int(raw) if code.categorical else float(raw)
        except ValueError:
            kind = "an integer" if code.categorical else "a number"
            raise ConfigError(f"--set {item}: {code.name} needs {kind}") from None
        if code.categorical and not 0 <= value < code.k:
            raise ConfigError(f"--set {item}: {code.name} takes 0..{code.k - 1}")
        out[code.name] = value
    return out


def sample_latent(model: InfoGAN, n: int, seed: int, fixed: dict[str, float | int] | None = None) -> Latent:
    """Prior samples (deterministic in ``seed``) with some codes pinned to given values."""
    latent = model.spec.sample(n, torch.Generator().manual_seed(seed))
    for name, value in (fixed or {}).items():
        latent.codes[name] = torch.full_like(latent.codes[name], value)
    return latent


def traversal(
    model: InfoGAN, code_name: str, *, lo: float = -2.0, hi: float = 2.0, steps: int = 10, rows: int = 10, seed: int = 0
) -> torch.Tensor:
    """Images [rows * cols, C, H, W]: each row fixes z and the other codes, columns vary one code.

    A categorical code takes each of its k values in turn; a continuous code goes from
    ``lo`` to ``hi``. In rows, the other categorical codes cycle through their values (so
    every digit shows up) and the other continuous codes sit at 0, as in the paper's Figure 2."""
    code = model.spec.code(code_name)
    values = torch.arange(code.k) if code.categorical else torch.linspace(lo, hi, steps)
    cols = len(values)
    base = model.spec.sample(rows, torch.Generator().manual_seed(seed))
    z = base.z.repeat_interleave(cols, 0)
    codes = {}
    for other in model.spec.codes:
        if other.name == code.name:
            codes[other.name] = values.repeat(rows)
        elif other.categorical:
            codes[other.name] = (torch.arange(rows) % other.k).repeat_interleave(cols)
        else:
            codes[other.name] = torch.zeros(rows * cols)
    return model.generate(Latent(z, codes))


def traversal_png(model: InfoGAN, code_name: str, path: str | Path, **kw) -> None:
    images = traversal(model, code_name, **kw)
    code = model.spec.code(code_name)
    save_png(grid(images, code.k if code.categorical else kw.get("steps", 10), scale=2), path)


def read_metrics(path: str | Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def plot_mi_curves(runs: dict[str, str | Path], code: CodeSpec, path: str | Path, max_step: int | None = None) -> None:
    """L_I of one code over iterations for several runs, with the most it can reach drawn (the paper's Figure 1;
    ``CodeSpec.l_i_ceiling``: H(c) for a categorical code)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=120)
    for label, metrics in runs.items():
        rows = [r for r in read_metrics(metrics) if max_step is None or r["step"] <= max_step]
        ax.plot([r["step"] for r in rows], [r[f"mi/{code.name}"] for r in rows], label=label)
    ax.axhline(code.l_i_ceiling, color="k", linestyle="--", linewidth=1, label=f"ceiling {code.l_i_ceiling:.3f}")
    ax.set_xlabel("iteration")
    ax.set_ylabel(f"L_I({code.name}) [nats]")
    ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    atomic_write_bytes(Path(path), figure_png(fig))


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    return plt


def figure_png(fig) -> bytes:
    """A matplotlib figure as PNG bytes; the figure is closed."""
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    _pyplot().close(fig)
    return buf.getvalue()


def loss_curves_png(rows: list[dict]) -> bytes:
    """D's and G's losses, their GAN parts, the consistency term and the real information (when on), over
    iterations from ``metrics.jsonl`` records."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=110)
    steps = [r["step"] for r in rows]
    for key, label in (("loss_d", "D + Q loss"), ("loss_g", "G loss"), ("gan_d", "D GAN part"), ("gan_g", "G GAN part"),
                       ("consistency", "consistency term"), ("real_info", "real information (nats)"),
                       ("contrastive", "contrastive H loss (nats)")):
        if rows and key in rows[0]:
            ax.plot(steps, [r[key] for r in rows], label=label, linestyle="-" if key.startswith("loss") else ":")
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    return figure_png(fig)


def l_i_png(rows: list[dict], ceilings: dict[str, float]) -> bytes:
    """One panel per code: L_I over iterations against the most it can reach, ``ceilings[code]``
    (``CodeSpec.l_i_ceiling``): H(c) for a categorical code, less for a continuous one."""
    plt = _pyplot()
    codes = [k[3:] for k in (rows[0] if rows else {}) if k.startswith("mi/")]
    fig, axes = plt.subplots(1, max(len(codes), 1), figsize=(3.4 * max(len(codes), 1), 3.2), dpi=110, squeeze=False)
    steps = [r["step"] for r in rows]
    for ax, code in zip(axes[0], codes):
        ax.plot(steps, [r[f"mi/{code}"] for r in rows], label="L_I")
        ax.axhline(ceilings[code], color="k", linestyle="--", linewidth=1, label=f"ceiling {ceilings[code]:.3f}")
        ax.set_title(code)
        ax.set_xlabel("iteration")
        ax.legend(loc="best")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("nats")
    return figure_png(fig)


def scores_png(rows: list[dict]) -> bytes:
    """FactorVAE, MIG, SAP and DCI disentanglement over iterations, from ``scores.jsonl`` records."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.6), dpi=110)
    steps = [r["step"] for r in rows]
    for key, label in (("factor_vae", "FactorVAE"), ("mig", "MIG"), ("sap", "SAP"), ("dci_disentanglement", "DCI-D")):
        ax.plot(steps, [r[key] for r in rows], marker="o", markersize=3, label=label)
    ax.set_xlabel("iteration")
    ax.set_ylabel("score")
    ax.set_ylim(0, 1)
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    return figure_png(fig)


def runs_scores_png(curves: dict[str, list[dict]]) -> bytes:
    """Several runs' FactorVAE and MIG over iterations side by side, one line per run (name -> its ``scores.jsonl``
    records)."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), dpi=110)
    for ax, (key, title) in zip(axes, (("factor_vae", "FactorVAE"), ("mig", "MIG"))):
        for name, rows in curves.items():
            ax.plot([r["step"] for r in rows], [r[key] for r in rows], marker="o", markersize=3, label=name)
        ax.set_title(title)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    axes[0].legend(loc="best")
    return figure_png(fig)


def morphometry_png(effects: dict[str, dict]) -> bytes:
    """A code-by-measure heat map of the Spearman rho in ``evaluation.json``'s ``morphometry`` (-1 blue, +1 red),
    each cell labelled, with the digit kept per code beside its row."""
    plt = _pyplot()
    codes = list(effects)
    measures = list(effects[codes[0]]["rho"])
    rho = np.array([[effects[c]["rho"][m] for m in measures] for c in codes], dtype=float)
    fig, ax = plt.subplots(figsize=(1.0 * len(measures) + 2.6, 0.55 * len(codes) + 1.3), dpi=110)
    ax.imshow(rho, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    for (i, j), v in np.ndenumerate(rho):
        ax.text(j, i, "" if np.isnan(v) else f"{v:+.2f}", ha="center", va="center",
                color="white" if abs(v) > 0.6 else "black", fontsize=9)
    ax.set_xticks(range(len(measures)), measures)
    ax.set_yticks(range(len(codes)), [f"{c}  (digit kept {effects[c]['digit_kept'] * 100:.0f}%)" for c in codes])
    ax.set_title("Spearman rho of each code with each measure", fontsize=10)
    return figure_png(fig)


def code_animation_gif(model: InfoGAN, code_name: str, *, lo: float = -2.0, hi: float = 2.0, frames: int = 17,
                       rows: int = 10, ms: int = 90, seed: int = 0) -> bytes:
    """An animated GIF: ``rows`` images whose noise and other codes stay fixed (as in a traversal row)
    while one continuous code sweeps ``lo`` .. ``hi`` and back, looping."""
    if model.spec.code(code_name).categorical:
        raise ConfigError(f"{code_name} is categorical; animations sweep a continuous code")
    images = traversal(model, code_name, lo=lo, hi=hi, steps=frames, rows=rows, seed=seed)
    by_value = images.view(rows, frames, *images.shape[1:]).transpose(0, 1)  # [frames, rows, C, H, W]
    order = list(range(frames)) + list(range(frames - 2, 0, -1))  # there and back, without repeating the ends
    pictures = [grid(by_value[i], ncol=min(rows, 5), scale=2) for i in order]
    buf = io.BytesIO()
    pictures[0].save(buf, format="GIF", save_all=True, append_images=pictures[1:], duration=ms, loop=0)
    return buf.getvalue()
