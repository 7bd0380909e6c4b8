import numpy as np
import pytest
import torch

from infogan.config import preset
from infogan.data import Factors, ImageData, load_dataset
from infogan.errors import DataError
from infogan.metrics.disentanglement import (
    Representation,
    dci_score,
    factor_vae_score,
    mig_score,
    sap_score,
    score_encoder,
)
from infogan.metrics.evaluate import evaluate
from infogan.model import InfoGAN

LEVELS = (3, 5, 8, 10)  # at most 20 values, so MIG's 20 bins keep every value apart


def _classes(n: int = 3000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(k, size=n) for k in LEVELS], axis=1)


def _perfect(classes: np.ndarray) -> np.ndarray:
    """One dimension per factor, permuted and rescaled (some flipped): nothing a metric should mind."""
    values = classes / (np.array(LEVELS) - 1)
    return values[:, [2, 0, 3, 1]] * np.array([3.0, -0.5, 1.0, -7.0])


def _rotated(classes: np.ndarray) -> np.ndarray:
    """Every dimension an equal mix of every factor: the standardised factors turned by a Hadamard rotation."""
    z = (classes - classes.mean(0)) / classes.std(0)
    hadamard = np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]]) / 2
    return z @ hadamard


def _scores(rep: np.ndarray, classes: np.ndarray, n_train: int = 2000) -> dict[str, float]:
    train, test = slice(0, n_train), slice(n_train, None)
    fv = factor_vae_score(rep, classes, np.random.default_rng(0), train_votes=1000, eval_votes=500)
    dci = dci_score(rep[train], classes[train], rep[test], classes[test], np.random.default_rng(0))
    return {
        "factor_vae": fv.eval_accuracy,
        "mig": mig_score(rep[train], classes[train]).score,
        "sap": sap_score(rep[train], classes[train], rep[test], classes[test]).score,
        "dci_d": dci.disentanglement,
        "dci_c": dci.completeness,
        "dci_i": dci.informativeness_test,
    }


def test_a_perfect_encoder_scores_near_the_top_of_every_metric():
    classes = _classes()
    s = _scores(_perfect(classes), classes)
    assert s["factor_vae"] == 1.0
    assert s["mig"] > 0.97  # the second best dimension's plug-in MI is small but not 0
    # SAP by classification: the best dimension is always right, the second guesses at chance.
    chance_gap = np.mean([1 - 1 / k for k in LEVELS])
    assert chance_gap - 0.05 < s["sap"] <= chance_gap + 0.02
    assert s["dci_d"] > 0.95 and s["dci_c"] > 0.95 and s["dci_i"] > 0.99


def test_entangled_and_noise_encoders_score_clearly_lower():
    classes = _classes()
    mixed = _scores(_rotated(classes), classes)
    assert mixed["factor_vae"] < 0.9 and mixed["mig"] < 0.4 and mixed["sap"] < 0.3
    assert mixed["dci_d"] < 0.5 and mixed["dci_c"] < 0.5
    noise = _scores(np.random.default_rng(2).normal(size=(len(classes), len(LEVELS))), classes)
    assert noise["factor_vae"] < 0.45  # chance is 1/4
    assert noise["mig"] < 0.05 and noise["sap"] < 0.05 and noise["dci_d"] < 0.15 and noise["dci_c"] < 0.15
    assert noise["dci_i"] < 0.4


def test_mig_and_sap_do_not_depend_on_the_order_of_dimensions():
    classes = _classes(1500)
    rep = _rotated(classes)[:, :3] + 0.3 * _perfect(classes)[:, :3]  # partly entangled: not a trivial case
    order = [2, 0, 1]
    mig, mig_permuted = mig_score(rep, classes), mig_score(rep[:, order], classes)
    assert mig_permuted.score == pytest.approx(mig.score) and mig.score > 0.01
    np.testing.assert_allclose(mig_permuted.mutual_info, mig.mutual_info[order])
    sap = sap_score(rep[:1000], classes[:1000], rep[1000:], classes[1000:])
    sap_permuted = sap_score(rep[:1000, order], classes[:1000], rep[1000:, order], classes[1000:])
    assert sap_permuted.score == pytest.approx(sap.score) and sap.score > 0.01
    np.testing.assert_allclose(sap_permuted.accuracy, sap.accuracy[order])


def test_mig_of_a_dimension_and_its_coarsening_is_the_information_left_over():
    # y takes 4 equally likely values; dim 0 is y (MI log 4), dim 1 is y // 2 (MI log 2): gap log 2 = H(y) / 2.
    y = np.tile(np.arange(4), 250)[:, None]
    rep = np.stack([y[:, 0], y[:, 0] // 2], axis=1).astype(float)
    m = mig_score(rep, y)
    np.testing.assert_allclose(m.mutual_info[:, 0], [np.log(4), np.log(2)])
    assert m.score == pytest.approx(0.5)


def test_factor_vae_score_with_one_factor_per_dimension_is_one_and_prunes_still_dimensions():
    classes = _classes(2000)
    rep = np.hstack([_perfect(classes), np.full((len(classes), 1), 0.3), 0.01 * _rotated(classes)[:, :1]])
    s = factor_vae_score(rep, classes, np.random.default_rng(0), train_votes=800, eval_votes=400)
    assert s.train_accuracy == 1.0 and s.eval_accuracy == 1.0 and s.active_dims == len(LEVELS)
    still = factor_vae_score(0.01 * rep, classes, np.random.default_rng(0), train_votes=10, eval_votes=10)
    assert (still.eval_accuracy, still.active_dims) == (0.0, 0)


def test_dci_completeness_drops_when_a_factor_is_spread_over_copies():
    classes = _classes(2500)
    rep = _perfect(classes)
    single = dci_score(rep[:2000], classes[:2000], rep[2000:], classes[2000:], np.random.default_rng(0))
    twice = np.hstack([rep, rep])
    copied = dci_score(twice[:2000], classes[:2000], twice[2000:], classes[2000:], np.random.default_rng(0))
    assert single.importance.shape == (4, 4) and copied.importance.shape == (8, 4)
    np.testing.assert_allclose(copied.importance.sum(axis=0), 1.0)
    assert copied.disentanglement > 0.95  # each copy still stands for one factor
    assert copied.completeness < single.completeness - 0.2  # but each factor now lives in two dimensions


def _data(classes: np.ndarray) -> ImageData:
    """Each image holds its own row number (two bytes), so an encoder can look up its factors."""
    n = len(classes)
    index = torch.arange(n)
    images = torch.stack([index // 256, index % 256], dim=1).reshape(n, 1, 1, 2).to(torch.uint8)
    factors = Factors(("a", "b", "c", "d"), torch.from_numpy(classes), tuple(tuple(range(k)) for k in LEVELS))
    return ImageData("synthetic", images, None, factors)


def _perfect_encoder(data: ImageData):
    def encode(images: torch.Tensor) -> Representation:
        rows = images[:, 0, 0, 0].long() * 256 + images[:, 0, 0, 1].long()
        return Representation(_perfect(data.factors.classes[rows].numpy()), ("w", "x", "y", "z"))

    return encode


def test_score_encoder_splits_a_shuffled_pool_and_drops_factors_that_do_not_vary():
    classes = _classes(600)
    classes[:, 3] = 0  # factor d never varies
    data = _data(classes[np.lexsort(classes.T[::-1])])  # in factor order, as dSprites is
    s = score_encoder(_perfect_encoder(data), data, n=450)
    assert s.factors == ("a", "b", "c") and (s.n_train, s.n_test) == (300, 150) and s.dims == ("w", "x", "y", "z")
    assert s.mig.mutual_info.shape == (4, 3) and s.factor_vae.eval_accuracy == 1.0
    # A split that kept the factor order would leave classes of factor a out of the test part.
    assert s.sap.accuracy.max(axis=0).min() == 1.0 and s.dci.informativeness_test > 0.95


def test_data_without_factors_or_with_too_few_images_is_refused():
    encode = lambda images: Representation(np.zeros((len(images), 1)), ("z",))
    with pytest.raises(DataError, match="no ground-truth factors"):
        score_encoder(encode, ImageData("plain", torch.zeros(20, 1, 2, 2, dtype=torch.uint8), None))
    with pytest.raises(DataError, match="at least 12 images"):
        score_encoder(encode, _data(_classes(8)))
    with pytest.raises(DataError, match="no factor of synthetic varies over the 20 images"):
        score_encoder(encode, _data(np.zeros((20, 4), dtype=np.int64)))


def test_untrained_dsprites_model_end_to_end_shapes_and_ranges_only():
    """An UNTRAINED model on 300 rendered dSprites images, through evaluate(): checks plumbing, shapes and ranges,
    not quality."""
    torch.manual_seed(0)
    model = InfoGAN.build(preset("dsprites"))
    data = load_dataset("dsprites", None, "train", n=300)
    d = evaluate(model, data, mi_samples=50)["disentanglement"]
    assert d["dims"] == [c.name for c in model.spec.codes] and len(d["dims"]) == 5
    assert d["factors"] == list(data.factors.names) and (d["n_train"], d["n_test"]) == (200, 100)
    for matrix in ("mutual_info", "sap_accuracy", "dci_importance"):
        assert np.array(d[matrix]).shape == (5, 5), matrix
    for key in ("factor_vae", "mig", "sap", "dci_disentanglement", "dci_completeness", "dci_informativeness"):
        assert 0.0 <= d[key] <= 1.0, key
    assert "disentanglement" not in evaluate(model, ImageData("no factors", data.images, None), mi_samples=50)


def test_evaluate_command_prints_the_four_metrics(monkeypatch, capsys, tmp_path):
    from infogan import api
    from infogan.cli import main

    data = _data(_classes(300))
    scores = score_encoder(_perfect_encoder(data), data).to_dict()
    result = {"step": 7, "data": "synthetic", "n_images": 300, "mi": {}, "entropy": {}, "disentanglement": scores}
    monkeypatch.setattr(api, "evaluate", lambda *args, **kwargs: result)  # the metrics themselves are tested above
    assert main(["evaluate", str(tmp_path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "  disentanglement of a, b, c, d in Q's w, x, y, z (200 + 100 images):"
    assert out[2].startswith(f"    FactorVAE 1.000 (4 active dims)  MIG {scores['mig']:.3f}  SAP {scores['sap']:.3f}  DCI")
