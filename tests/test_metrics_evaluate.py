import torch

from infogan.data import ImageData
from infogan.metrics import evaluate
from infogan.metrics.evaluate import quality_of_samples
from infogan.model import InfoGAN


def test_evaluate_adds_fd_digits_and_a_diagnosis(tiny_config, tiny_data):
    torch.manual_seed(0)
    model = InfoGAN.build(tiny_config)
    r = evaluate(model, tiny_data, mi_samples=100, quality_samples=32, shape_rows=1)
    assert r["fd_digits"] > 0 and 1 <= r["classifier_score"] <= 10 and r["fd_digits_n"] == [32, 32]
    assert r["diagnosis_line"].startswith(("merged", "split", "every label"))
    assert set(r["diagnosis"]) == {"merged", "split", "idle"}
    again = evaluate(model, tiny_data, mi_samples=100, quality_samples=32, shape_rows=1)
    assert again["fd_digits"] == r["fd_digits"]  # fixed seeds: the same samples each time


def test_fd_digits_is_skipped_with_a_note_for_other_image_shapes(tiny_config):
    rgb = ImageData("rgb", torch.zeros(8, 3, 32, 32, dtype=torch.uint8), None)
    assert quality_of_samples(InfoGAN.build(tiny_config), rgb, 8) == {
        "fd_digits_note": "FD-digits skipped: its digit classifier reads 1x28x28 images, these are 3x32x32"}
