import io

import torch
from PIL import Image

from infogan.codes import CodeSpec
from infogan.model import InfoGAN
from infogan.viz import grid, parse_assignments, plot_mi_curves, runs_scores_png, save_png, traversal

import pytest

from infogan.errors import ConfigError


def test_grid_layout():
    img = grid(torch.ones(7, 1, 4, 4), ncol=3, pad=1)
    assert img.size == (3 * 5 + 1, 3 * 5 + 1) and img.mode == "L"
    assert grid(torch.zeros(2, 3, 4, 4), ncol=2).mode == "RGB"


def test_traversal_rows_fix_noise_and_columns_vary_the_code(tiny_config):
    torch.manual_seed(0)
    model = InfoGAN.build(tiny_config)
    seen = []
    model.generator.register_forward_hook(lambda m, inp, out: seen.append(inp[0]))
    images = traversal(model, "c1", steps=5, rows=3)
    assert images.shape == (15, 1, 28, 28)
    x = seen[0].view(3, 5, -1)
    assert torch.equal(x[:, :1, :62].expand(3, 5, 62), x[:, :, :62])  # same z along a row
    assert torch.allclose(x[0, :, 72], torch.linspace(-2, 2, 5))  # c1 goes -2..2 along columns
    assert torch.equal(x[:, :, 62:72].argmax(-1)[:, 0], torch.arange(3))  # rows cycle the digit code
    assert (x[:, :, 73] == 0).all()  # the other continuous code is held at 0
    cat = traversal(model, "cat0", rows=2)
    assert cat.shape == (20, 1, 28, 28)


def test_parse_assignments(tiny_config):
    model = InfoGAN.build(tiny_config)
    assert parse_assignments(model, ["cat0=3", "c1=0.5"]) == {"cat0": 3, "c1": 0.5}
    for bad, msg in (["cat0=10"], "takes 0..9"), (["c1"], "NAME=VALUE"), (["zz=1"], "no code named"), (["cat0=x"], "integer"):
        with pytest.raises(ConfigError, match=msg):
            parse_assignments(model, bad)


def test_png_and_curve_files(tmp_path):
    save_png(grid(torch.rand(4, 1, 8, 8), 2), tmp_path / "g.png")
    assert Image.open(tmp_path / "g.png").size[0] > 0
    m = tmp_path / "metrics.jsonl"
    m.write_text('{"step": 1, "mi/cat0": 0.5, "H/cat0": 2.3}\n{"step": 2, "mi/cat0": 1.5, "H/cat0": 2.3}\n')
    plot_mi_curves({"InfoGAN": m}, CodeSpec("cat0", "categorical", k=10), tmp_path / "fig.png")
    assert Image.open(tmp_path / "fig.png").size[0] > 100


def test_runs_scores_png_draws_each_run_s_curves_side_by_side():
    rows = [{"step": s, "factor_vae": 0.4 + s / 1e4, "mig": s / 1e5} for s in (500, 1000, 1500)]
    png = runs_scores_png({"a": rows, "b": rows[:2]})
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.width > image.height  # two panels in a row
