import dataclasses
import math
import re
from pathlib import Path

import pytest
import torch

from infogan.config import PRESETS, Config, preset
from infogan.data import ImageData
from infogan.errors import ConfigError, DataError
from infogan.model import InfoGAN
from infogan.runs import load_model, save_checkpoint
from infogan.train import Trainer

# preset -> (image shape, generator input size). The input sizes are Appendix C's
# ("... resulting in a concatenated dimension of 74 / 168 / 228", "dimension 133 / 189").
EXPERIMENTS = {
    "mnist": ((1, 28, 28), 74),
    "fashion-mnist": ((1, 28, 28), 74),
    "svhn": ((3, 32, 32), 168),
    "celeba": ((3, 32, 32), 228),
    "faces": ((1, 32, 32), 133),
    "chairs": ((1, 64, 64), 189),
    "dsprites": ((1, 64, 64), 10),
    "shapes3d": ((3, 64, 64), 14),
    "folder": ((3, 64, 64), 140),
}
# Methods beyond the paper's objective: preset -> the experiment whose networks and codes it keeps.
METHODS = {"dsprites-cr": "dsprites"}


def synthetic(shape, n=8, seed=0) -> ImageData:
    g = torch.Generator().manual_seed(seed)
    return ImageData("synthetic", (torch.rand(n, *shape, generator=g) * 255).to(torch.uint8), None)


def test_every_method_keeps_its_experiments_networks_and_codes():
    for name, experiment in METHODS.items():
        method, paper = preset(name), preset(experiment)
        assert (method.model, method.latent, method.data) == (paper.model, paper.latent, paper.data)
        assert method.loss != paper.loss


def test_every_preset_has_a_plain_gan_twin():
    assert set(PRESETS) == set(EXPERIMENTS) | {f"{name}-gan" for name in EXPERIMENTS} | set(METHODS)
    for name in EXPERIMENTS:
        infogan, gan = preset(name), preset(f"{name}-gan")
        assert (gan.loss.lambda_cat, gan.loss.lambda_cont) == (0.0, 0.0)
        assert dataclasses.replace(gan, loss=infogan.loss) == infogan


@pytest.mark.parametrize("name", PRESETS)
def test_preset_shape_input_and_toml_round_trip(name):
    cfg = preset(name)
    shape, input_dim = EXPERIMENTS[METHODS.get(name, name.removesuffix("-gan"))]
    model = InfoGAN.build(cfg, channels=shape[0])
    assert model.image_shape == shape
    assert model.spec.input_dim == input_dim
    assert Config.from_toml(cfg.to_toml()) == cfg


# Each trains 20 steps at batch 2 and round-trips the weights through a checkpoint file (the
# training state's round trip is the same for every family and is tested in test_runs/test_kill).
# Over 5 s: chairs, whose Table 6 networks have about 40M parameters (two FC layers of 16M each).
@pytest.mark.parametrize("name", [*EXPERIMENTS, "svhn-gan", *METHODS])
def test_preset_trains_and_round_trips_a_checkpoint(name, tmp_path, one_thread):
    cfg = preset(name)
    cfg.optim.batch_size = 2
    cfg.train = dataclasses.replace(cfg.train, seed=1, device="cpu")
    shape = EXPERIMENTS[METHODS.get(name, name.removesuffix("-gan"))][0]
    trainer = Trainer(cfg, synthetic(shape))
    trainer.fit(steps=20)
    out = trainer.last_output
    assert trainer.step == 20 and math.isfinite(out.d.loss.item()) and math.isfinite(out.g.loss.item())

    path = tmp_path / "step.safetensors"
    save_checkpoint(path, step=trainer.step, model=trainer.model, optimizers={}, rng={}, meta={})
    loaded = load_model(path)
    assert loaded.step == 20 and loaded.image_shape == shape
    latent = trainer.model.spec.sample(4, torch.Generator().manual_seed(2))
    assert torch.equal(loaded.generate(latent), trainer.model.generate(latent))
    images = synthetic(shape, n=4, seed=3).images
    assert torch.equal(loaded.encode(images), trainer.model.encode(images))


@pytest.mark.parametrize("name, data_shape", [("svhn", (1, 28, 28)), ("svhn", (1, 32, 32)), ("chairs", (3, 64, 64))])
def test_data_of_another_shape_is_refused_in_one_line(name, data_shape):
    cfg = preset(name)
    cfg.train = dataclasses.replace(cfg.train, device="cpu")
    with pytest.raises(DataError) as e:
        Trainer(cfg, synthetic(data_shape))
    message = str(e.value)
    need = EXPERIMENTS[name][0]
    assert str(data_shape) in message and str(need) in message and "pick a matching preset" in message
    assert "\n" not in message


def test_folder_preset_takes_other_sizes_and_channels():
    cfg = preset("folder")
    cfg.model.image_size, cfg.model.channels = 128, 1
    assert InfoGAN.build(cfg).image_shape == (1, 128, 128)
    cfg.model.image_size = 0
    with pytest.raises(ConfigError, match="model.image_size must be one of 32, 64, 128"):
        InfoGAN.build(cfg)
    cfg = preset("svhn")
    cfg.model.image_size = 32
    with pytest.raises(ConfigError, match="takes no image_size"):
        InfoGAN.build(cfg)
    cfg.model.image_size = -1
    with pytest.raises(ConfigError, match="model.image_size must be >= 0"):
        cfg.validate()


def test_docs_presets_table_matches_the_presets():
    """The "Presets" table of docs/guide/configuration.md: preset | data | image | codes | noise | lr D / G |
    lambda cat / cont | consistency / real info | batch | source."""
    page = (Path(__file__).parents[1] / "docs" / "guide" / "configuration.md").read_text()
    section = page.split("\n## Presets", 1)[1].split("\n#", 1)[0]
    row = re.compile(r"^\| `([\w-]+)` \|(.*)\|$", re.MULTILINE)
    rows = {m[1]: [c.strip() for c in m[2].split("|")] for m in row.finditer(section)}
    assert set(rows) == set(EXPERIMENTS) | set(METHODS)
    for name, cells in rows.items():
        cfg, (shape, _) = preset(name), EXPERIMENTS[METHODS.get(name, name)]
        assert cells[1] == "x".join(map(str, shape)), name
        assert cells[3] == str(cfg.latent.noise_dim), name
        assert cells[4] == f"{cfg.optim.lr_d:g} / {cfg.optim.lr_g:g}", name
        assert cells[5] == f"{cfg.loss.lambda_cat:g} / {cfg.loss.lambda_cont:g}", name
        assert cells[6] == f"{cfg.loss.consistency:g} / {cfg.loss.real_info:g}", name
        assert cells[7] == str(cfg.optim.batch_size), name
