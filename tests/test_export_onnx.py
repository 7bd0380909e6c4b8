"""ONNX and static web exports: the graphs compute what PyTorch computes (onnxruntime, max abs diff <= 1e-4) for any
batch size, carry the config, and the web folder holds the page, both graphs and the checked onnxruntime-web files."""

import json
import tarfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from infogan.cli import main
from infogan.config import Config, preset
from infogan.encode import estimate
from infogan.errors import ConfigError
from infogan.explore.app import model_info, static_file
from infogan.explore.web import ORT_WEB_FILES, ORT_WEB_VERSION, ort_web_candidates, read_ort_web, write_web
from infogan.export import encoder_path, export, write_onnx
from infogan.model import InfoGAN
from infogan.runs import load_model

TOLERANCE = 1e-4
REPO_ORT_WEB = Path(__file__).resolve().parents[1] / "build" / f"onnxruntime-web-{ORT_WEB_VERSION}.tgz"


@pytest.fixture(scope="module")
def exported(trained_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("onnx") / "model.onnx"
    assert export(trained_run, "onnx", out) == out
    return load_model(trained_run), out, encoder_path(out)


def _generator_diff(model: InfoGAN, path: Path, n: int, seed: int = 0) -> float:
    latent = model.spec.sample(n, torch.Generator().manual_seed(seed))
    feeds = {"z": latent.z.numpy(), **{f"code.{c.name}": latent.codes[c.name].numpy() for c in model.spec.codes}}
    (images,) = ort.InferenceSession(str(path)).run(["image"], feeds)
    expected = model.generate(latent).numpy()
    assert images.shape == expected.shape == (n, *model.image_shape)
    return float(np.abs(images - expected).max())


def _encoder_diff(model: InfoGAN, path: Path, n: int, seed: int = 0) -> float:
    images = (torch.rand(n, *model.image_shape, generator=torch.Generator().manual_seed(seed)) * 255).to(torch.uint8)
    session = ort.InferenceSession(str(path))
    outputs = dict(zip([o.name for o in session.get_outputs()], session.run(None, {"image": images.numpy()})))
    diffs = []
    for i, row in enumerate(estimate(model, images)):
        for name, est in row.items():
            for key in ("probs", "mean", "std"):
                if key in est:
                    diffs.append(np.abs(outputs[f"{name}.{key}"][i] - np.asarray(est[key])).max())
    return float(max(diffs))


@pytest.mark.parametrize("n", [1, 7])
def test_onnx_generator_matches_pytorch_at_any_batch_size(exported, n):
    model, generator, _ = exported
    diff = _generator_diff(model, generator, n)
    print(f"generator, batch {n}: max abs diff {diff:.2e}")  # shown by pytest -rP
    assert diff <= TOLERANCE


@pytest.mark.parametrize("n", [1, 6])
def test_onnx_encoder_matches_q_at_any_batch_size(exported, n):
    model, _, encoder = exported
    diff = _encoder_diff(model, encoder, n)
    print(f"encoder, batch {n}: max abs diff {diff:.2e}")
    assert diff <= TOLERANCE


def test_onnx_graphs_name_their_inputs_outputs_and_carry_the_config(exported):
    model, generator, encoder = exported
    g, e = onnx.load(str(generator)), onnx.load(str(encoder))
    assert [i.name for i in g.graph.input] == ["z", "code.cat0", "code.c1", "code.c2"]
    assert [o.name for o in e.graph.output] == ["cat0.probs", "c1.mean", "c1.std", "c2.mean", "c2.std"]
    for graph in (g, e):
        dims = [value.type.tensor_type.shape.dim[0].dim_param for value in [*graph.graph.input, *graph.graph.output]]
        assert set(dims) == {"batch"}
        meta = {p.key: p.value for p in graph.metadata_props}
        assert Config.from_toml(meta["infogan.config"], "onnx") == model.config
        assert meta["infogan.step"] == str(model.step)


def test_tanh_rgb_model_exports_its_pixel_convention(tmp_path):
    """tanh output and 3 channels: the generator graph maps to [0, 1], the encoder takes uint8 like model.encode."""
    config = preset("mnist")
    config.model.output = "tanh"
    model = InfoGAN.build(config, channels=3)
    write_onnx(model, tmp_path / "g.onnx", tmp_path / "e.onnx")
    assert _generator_diff(model, tmp_path / "g.onnx", 3) <= TOLERANCE
    assert _encoder_diff(model, tmp_path / "e.onnx", 3) <= TOLERANCE


def test_onnx_export_refuses_a_wrong_suffix(trained_run, tmp_path, capsys):
    assert main(["export", str(trained_run), "--format", "onnx", "--out", str(tmp_path / "model.bin")]) == 1
    assert capsys.readouterr().err == (
        f"infogan export: error: --out {tmp_path / 'model.bin'} should end in .onnx (the encoder goes next to it, "
        "in .encoder.onnx)\n"
    )


# ---- the web folder -------------------------------------------------------------------------------------------------
def test_missing_onnxruntime_web_names_the_places_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INFOGAN_ORT_WEB", raising=False)
    with pytest.raises(ConfigError, match=r"onnxruntime-web 1\.30\.0 not found at node_modules/onnxruntime-web, "
                                          r"onnxruntime-web-1\.30\.0\.tgz; run npm pack onnxruntime-web@1\.30\.0 here"):
        read_ort_web()
    monkeypatch.setenv("INFOGAN_ORT_WEB", str(tmp_path / "elsewhere.tgz"))
    assert ort_web_candidates(None)[0] == tmp_path / "elsewhere.tgz"


def test_onnxruntime_web_files_are_checked(tmp_path, npm_tarball):
    altered = npm_tarball(tmp_path / "fake.tgz", "dist", {name: b"not the release" for name in ORT_WEB_FILES})
    with pytest.raises(ConfigError, match=r"dist/ort\.wasm\.min\.js is not the one of onnxruntime-web 1\.30\.0"):
        read_ort_web(altered)
    partial = npm_tarball(tmp_path / "fake.tgz", "dist", {})
    with pytest.raises(ConfigError, match=r"has no dist/ort\.wasm\.min\.js"):
        read_ort_web(partial)
    (tmp_path / "junk.tgz").write_bytes(b"junk")
    with pytest.raises(ConfigError, match="is not a readable npm tarball"):
        read_ort_web(tmp_path / "junk.tgz")


def test_web_export_writes_a_complete_static_site(trained_run, tmp_path):
    if not REPO_ORT_WEB.is_file():
        pytest.skip(f"{REPO_ORT_WEB} missing (make env fetches it with npm pack)")
    # The package folder form: what `npm install` leaves in node_modules.
    folder = tmp_path / "node_modules" / "onnxruntime-web"
    with tarfile.open(REPO_ORT_WEB) as tar:
        for name in ORT_WEB_FILES:
            (folder / "dist").mkdir(parents=True, exist_ok=True)
            (folder / "dist" / name).write_bytes(tar.extractfile(f"package/dist/{name}").read())
    assert read_ort_web(folder) == read_ort_web(REPO_ORT_WEB)

    site = tmp_path / "site"
    assert main(["export", str(trained_run), "--format", "web", "--out", str(site), "--ort-web", str(REPO_ORT_WEB)]) == 0
    files = {str(p.relative_to(site)) for p in site.rglob("*") if p.is_file()}
    assert files == {"index.html", "app.js", "style.css", "backend.js", "model.json", "generator.onnx",
                     "encoder.onnx", "ort/LICENSE", *(f"ort/{name}" for name in ORT_WEB_FILES)}
    model = load_model(trained_run)
    assert json.loads((site / "model.json").read_text()) == model_info(model)
    assert (site / "backend.js").read_bytes() == static_file("onnx.js")
    assert _generator_diff(model, site / "generator.onnx", 2) <= TOLERANCE


def test_web_export_refuses_a_file_as_folder(trained_run, tmp_path):
    (tmp_path / "site").write_text("")
    with pytest.raises(ConfigError, match="is a file; the web export writes a folder"):
        write_web(load_model(trained_run), tmp_path / "site")
