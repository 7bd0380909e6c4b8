import numpy as np
import pytest
import torch
import torch.nn.functional as F

from infogan.data.bundled import IMAGES_SHA256, LABELS_SHA256, load_bundled
from infogan.errors import CheckpointError
from infogan.metrics.digit_classifier import held_out_split, load_classifier, save_classifier
from infogan.metrics.sample_quality import classifier_score, sample_quality


@pytest.fixture(scope="module")
def digits():
    images, labels = load_bundled()
    train, held = held_out_split(labels)
    return torch.from_numpy(images).unsqueeze(1), labels, train, held


def test_held_out_split_is_fixed_stratified_and_disjoint():
    labels = np.repeat(np.arange(10), 50)
    train, held = held_out_split(labels, per_class=5)
    assert len(held) == 50 and np.bincount(labels[held]).tolist() == [5] * 10
    assert not set(train) & set(held) and len(train) + len(held) == len(labels)
    assert np.array_equal(held, held_out_split(labels, per_class=5)[1])


def test_shipped_classifier_reaches_its_recorded_held_out_accuracy(digits):
    images, labels, _, held = digits
    clf = load_classifier()
    acc = float((clf.embed(images[held]).probs.argmax(1) == labels[held]).mean())
    assert acc >= 0.98
    assert acc == pytest.approx(float(clf.meta["held_out_accuracy"]), abs=1e-4)
    assert clf.meta["images_sha256"] == IMAGES_SHA256 and clf.meta["labels_sha256"] == LABELS_SHA256
    assert "scripts/train_digit_classifier.py" in clf.meta["command"]


def test_fd_digits_separates_real_digits_from_bad_sets(digits):
    images, labels, train, held = digits
    real, other = images[held], images[np.random.default_rng(1).choice(train, len(held), replace=False)]
    base = sample_quality(real, other)
    g = torch.Generator().manual_seed(0)
    x = real.float() / 255
    noisy = (x + 0.5 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    kernel = torch.ones(1, 1, 5, 5) / 25
    blurred = F.conv2d(x, kernel, padding=2)
    ones = images[train[labels[train] == 1][: len(held)]]
    bad = {name: sample_quality(real, s) for name, s in (("noisy", noisy), ("blurred", blurred), ("ones", ones))}
    fds = {name: round(q.fd_digits, 1) for name, q in bad.items()}
    print(f"FD-digits: held-out vs training digits {base.fd_digits:.3f}, against the held-out digits: {fds}")
    assert all(v > 10 * base.fd_digits for v in fds.values()), (base.fd_digits, fds)
    assert base.classifier_score > 9 and base.real_classifier_score > 9
    assert bad["ones"].classifier_score < 1.5
    assert sample_quality(real, real).fd_digits == pytest.approx(0.0, abs=1e-6)


def test_classifier_score_bounds():
    assert classifier_score(np.eye(10)) == pytest.approx(10.0, rel=1e-6)  # confident and every class once
    assert classifier_score(np.full((20, 10), 0.1)) == pytest.approx(1.0)  # no confidence
    assert classifier_score(np.tile(np.eye(10)[3], (20, 1))) == pytest.approx(1.0)  # one class only


def test_corrupt_weights_are_refused(tmp_path):
    clf = load_classifier()
    path = tmp_path / "w.safetensors"
    save_classifier(clf.net, {"held_out_accuracy": "0.99"}, path)
    assert load_classifier(path).meta["held_out_accuracy"] == "0.99"
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF  # flip a weight byte
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupt"):
        load_classifier(bad)
    with pytest.raises(CheckpointError, match="missing or unreadable"):
        load_classifier(tmp_path / "none.safetensors")
