"""Exports of a trained model, for use outside its run directory.

``safetensors``: one file with the weights of G and D/Q, the config and the step, and no
training state; ``infogan.load_model`` and every subcommand that takes RUN_DIR read it back.

``onnx``: two ONNX graphs with a dynamic batch size, for any ONNX runtime. ``OUT.onnx`` is the generator: input ``z``
(float32 [N, noise_dim]) and one input per code, ``code.NAME`` (int64 class [N] for a categorical code, float32 value
[N] for a continuous one); output ``image`` (float32 [N, C, H, W] in [0, 1]). ``OUT.encoder.onnx`` is Q: input ``image``
(uint8 [N, C, H, W], the data's pixels); outputs ``NAME.probs`` (float32 [N, k]) per categorical code and ``NAME.mean``,
``NAME.std`` (float32 [N]) per continuous code. Both carry the run's config (TOML) and step as metadata.

``web``: a folder with the explorer page, both graphs and onnxruntime-web, where the controls run in the browser.
"""

from __future__ import annotations

import inspect
import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from .codes import Latent
from .errors import ConfigError
from .files import atomic_write_bytes
from .model import InfoGAN
from .runs import load_model, save_model_file

OPSET = 17


@dataclass(frozen=True)
class ExportOptions:
    ort_web: Path | None = None  # web: onnxruntime-web's npm tarball or package folder (default: searched for)


def _safetensors(model: InfoGAN, out: Path, options: ExportOptions) -> Path:
    if out.suffix != ".safetensors":
        raise ConfigError(f"--out {out} should end in .safetensors")
    save_model_file(out, model)
    return out


class GeneratorGraph(torch.nn.Module):
    """G with the latent layout inside: ``(z, code_0, code_1, ...)`` -> images in [0, 1]."""

    def __init__(self, model: InfoGAN):
        super().__init__()
        self.generator = model.generator
        self.model = model

    def forward(self, z: torch.Tensor, *codes: torch.Tensor) -> torch.Tensor:
        latent = Latent(z, {c.name: v for c, v in zip(self.model.spec.codes, codes)})
        return self.model.to_unit(self.generator(self.model.spec.generator_input(latent))).clamp(0, 1)


class EncoderGraph(torch.nn.Module):
    """Q on uint8 images: per code its class probabilities, or its Gaussian mean and std."""

    def __init__(self, model: InfoGAN):
        super().__init__()
        self.discriminator = model.discriminator
        self.model = model

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, ...]:
        stats = self.model.spec.split_q(self.discriminator.q(self.model.to_net(image)))
        out: list[torch.Tensor] = []
        for code in self.model.spec.codes:
            s = stats[code.name]
            out += [torch.softmax(s.logits, dim=1)] if code.categorical else [s.mean, s.std]
        return tuple(out)


def graph_io(model: InfoGAN) -> tuple[list[str], list[str]]:
    """Input names of the generator graph and output names of the encoder graph, in argument order."""
    inputs = ["z"] + [f"code.{c.name}" for c in model.spec.codes]
    outputs = []
    for c in model.spec.codes:
        outputs += [f"{c.name}.probs"] if c.categorical else [f"{c.name}.mean", f"{c.name}.std"]
    return inputs, outputs


def write_onnx(model: InfoGAN, generator_path: Path, encoder_path: Path) -> None:
    """The generator and the encoder as ONNX files (see the module docstring for their inputs and outputs)."""
    if model.spec.noise_dim == 0:
        raise ConfigError("ONNX export needs a model with noise (noise_dim > 0)")
    model.generator.eval()
    model.discriminator.eval()
    inputs, outputs = graph_io(model)
    example = model.spec.sample(2, torch.Generator().manual_seed(0))
    codes = tuple(example.codes[c.name] for c in model.spec.codes)
    images = torch.zeros((2, *model.image_shape), dtype=torch.uint8)
    batch = {0: "batch"}
    graphs = (
        (GeneratorGraph(model), (example.z, *codes), inputs, ["image"], generator_path),
        (EncoderGraph(model), (images,), ["image"], outputs, encoder_path),
    )
    for module, args, names_in, names_out, path in graphs:
        axes = {name: batch for name in names_in + names_out}
        atomic_write_bytes(path, _with_metadata(_trace(module, args, names_in, names_out, axes), model))


def _trace(module: torch.nn.Module, args: tuple, names_in: list[str], names_out: list[str], axes: dict) -> bytes:
    buf = io.BytesIO()
    # The TorchScript exporter: these networks are plain layer stacks it converts exactly, in about a second, with no
    # further dependency (the dynamo exporter needs onnxscript and takes ten). Its deprecation notice is not the user's.
    legacy = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, args, buf, input_names=names_in, output_names=names_out, dynamic_axes=axes,
                          opset_version=OPSET, **legacy)
    return buf.getvalue()


def _with_metadata(blob: bytes, model: InfoGAN) -> bytes:
    import onnx

    graph = onnx.load_from_string(blob)
    graph.producer_name = "infogan"
    for key, value in (("infogan.config", model.config.to_toml()), ("infogan.step", str(model.step))):
        graph.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(graph)
    return graph.SerializeToString()


def encoder_path(generator_path: Path) -> Path:
    """Where ``--format onnx`` writes the encoder: ``OUT.onnx`` -> ``OUT.encoder.onnx``."""
    return generator_path.with_suffix(".encoder.onnx")


def _onnx(model: InfoGAN, out: Path, options: ExportOptions) -> Path:
    if out.suffix != ".onnx":
        raise ConfigError(f"--out {out} should end in .onnx (the encoder goes next to it, in .encoder.onnx)")
    _require_onnx()
    write_onnx(model, out, encoder_path(out))
    return out


def _web(model: InfoGAN, out: Path, options: ExportOptions) -> Path:
    from .explore.web import write_web

    _require_onnx()
    return write_web(model, out, options.ort_web)


def _require_onnx() -> None:
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise ConfigError("ONNX export needs the onnx package: pip install 'infogan[onnx]'") from None


# Each writer takes the loaded model, the output path and the options, and returns what it wrote.
WRITERS: dict[str, Callable[[InfoGAN, Path, ExportOptions], Path]] = {
    "safetensors": _safetensors,
    "onnx": _onnx,
    "web": _web,
}
FORMATS = tuple(WRITERS)


def export(run_dir: str | Path, fmt: str, out: str | Path, options: ExportOptions | None = None) -> Path:
    """Write the newest model of ``run_dir`` (a run directory, checkpoint or model file) as ``fmt``."""
    writer = WRITERS.get(fmt)
    if writer is None:
        raise ConfigError(f"unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}")
    return writer(load_model(run_dir), Path(out), options or ExportOptions())
