import csv
import io
import json
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from infogan import api
from infogan.cli import main
from infogan.encode import estimate, point_values, read_image, to_csv
from infogan.errors import DataError
from infogan.model import InfoGAN
from infogan.runs import load_model


def _png(pixels: np.ndarray, fmt: str = "PNG", mode: str | None = None) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels, mode).save(buf, format=fmt)
    return buf.getvalue()


@pytest.fixture(scope="module")
def model(trained_run) -> InfoGAN:
    return load_model(trained_run)


def test_read_image_converts_to_the_models_shape():
    rgb = np.zeros((10, 20, 3), dtype=np.uint8)
    rgb[..., 0] = 255  # pure red: grey 76 by ITU-R 601 (PIL's "L")
    grey = read_image(_png(rgb), (1, 28, 28), "red.png")
    assert grey.shape == (1, 28, 28) and grey.dtype == torch.uint8
    assert grey.min() == grey.max() == 76
    colour = read_image(_png(rgb), (3, 8, 8), "red.png")
    assert colour.shape == (3, 8, 8) and colour[0].min() == 255 and colour[1:].max() == 0


def test_read_image_keeps_pixels_and_inverts():
    pixels = (np.arange(28 * 28) % 256).astype(np.uint8).reshape(28, 28)
    same = read_image(_png(pixels), (1, 28, 28), "x.png")
    assert torch.equal(same[0], torch.from_numpy(pixels))
    assert torch.equal(read_image(_png(pixels), (1, 28, 28), "x.png", invert=True), 255 - same)


def test_read_image_takes_jpeg():
    pixels = np.full((28, 28), 200, dtype=np.uint8)
    assert abs(int(read_image(_png(pixels, "JPEG"), (1, 28, 28), "x.jpg").float().mean()) - 200) <= 2


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "x is not a PNG or JPEG file"),
        (b"GIF89a\x01\x00\x01\x00", "x is not a PNG or JPEG file"),
        (_png(np.zeros((4, 4), np.uint8), "BMP"), "x is not a PNG or JPEG file"),
        (_png(np.zeros((64, 64), np.uint8))[:60], "x is truncated or corrupt"),
    ],
)
def test_unreadable_images_get_one_line(data, message):
    with pytest.raises(DataError, match=message) as e:
        read_image(data, (1, 28, 28), "x")
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("side, message", [(9000, "is 9000x9000 pixels, more than"), (100_000, "has more than the")])
def test_a_huge_canvas_is_refused_before_decoding(side, message):
    # A 1x1 PNG whose header claims side x side pixels: refused from the header alone.
    png = bytearray(_png(np.zeros((1, 1), np.uint8)))
    png[16:24] = side.to_bytes(4, "big") * 2
    png[29:33] = zlib.crc32(png[12:29]).to_bytes(4, "big")  # the IHDR chunk's CRC
    with pytest.raises(DataError, match=message):
        read_image(bytes(png), (1, 28, 28), "bomb.png")


def test_estimate_matches_q(model):
    images = (torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 255).to(torch.uint8)
    rows = estimate(model, images)
    stats = model.spec.split_q(model.encode(images))
    assert len(rows) == 5
    for i, row in enumerate(rows):
        probs = torch.tensor(row["cat0"]["probs"])
        assert probs.sum().item() == pytest.approx(1, abs=1e-5)
        assert row["cat0"]["class"] == int(stats["cat0"].logits[i].argmax())
        assert torch.allclose(probs, torch.softmax(stats["cat0"].logits[i], 0), atol=1e-6)
        assert row["c1"]["mean"] == pytest.approx(float(stats["c1"].mean[i]))
        assert row["c2"]["std"] == pytest.approx(float(stats["c2"].std[i]))
    assert point_values(model, rows[0]) == {"cat0": rows[0]["cat0"]["class"], "c1": rows[0]["c1"]["mean"],
                                            "c2": rows[0]["c2"]["mean"]}


def test_api_encode_reads_every_file_before_encoding(trained_run, tmp_path):
    good = tmp_path / "good.png"
    good.write_bytes(_png(np.zeros((28, 28), np.uint8)))
    rows = api.encode(trained_run, [good, good])
    assert [r["file"] for r in rows] == [str(good)] * 2 and rows[0] == rows[1]
    with pytest.raises(DataError, match="cannot read image .*missing.png: No such file"):
        api.encode(trained_run, [good, tmp_path / "missing.png"])


def test_cli_encode_csv_and_json(trained_run, tmp_path, capsys):
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"{i}.png")
        paths[-1].write_bytes(_png(np.full((30, 30), 80 * i, np.uint8)))
    assert main(["encode", str(trained_run), *map(str, paths)]) == 0
    table = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["file"] for r in table] == list(map(str, paths))
    assert set(table[0]) == {"file", "cat0", "cat0_prob", "c1_mean", "c1_std", "c2_mean", "c2_std"}
    assert main(["encode", str(trained_run), *map(str, paths), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert to_csv(rows) == "".join(f"{line}\n" for line in _csv_lines(table))
    assert [int(r["cat0"]) for r in table] == [r["codes"]["cat0"]["class"] for r in rows]


def _csv_lines(table):
    yield ",".join(table[0])
    for r in table:
        yield ",".join(r.values())


def test_cli_encode_bad_image_is_one_line(trained_run, tmp_path, capsys):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    assert main(["encode", str(trained_run), str(bad)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err == f"infogan encode: error: image {bad} is not a PNG or JPEG file\n"
