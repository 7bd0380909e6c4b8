import numpy as np
import pytest
import torch

from infogan.data import ImageData
from infogan.metrics import cluster_score, evaluate
from infogan.metrics.clustering import nmi
from infogan.model import InfoGAN


def test_permuted_perfect_clustering_scores_one():
    labels = np.repeat(np.arange(10), 30)
    perm = np.random.default_rng(0).permutation(10)
    s = cluster_score(perm[labels], labels, 10)
    assert s.accuracy == 1.0 and s.nmi == pytest.approx(1.0)
    assert all(s.mapping[int(perm[d])] == d for d in range(10))


def test_merged_digits_cost_accuracy():
    labels = np.repeat(np.arange(10), 10)
    codes = labels.copy()
    codes[labels == 9] = 4  # 4 and 9 share a code value; value 9 unused
    s = cluster_score(codes, labels, 10)
    assert s.accuracy == pytest.approx(0.9)
    assert s.confusion[4, 9] == 10


def test_extra_code_values_count_as_errors():
    labels = np.array([0, 0, 1, 1])
    s = cluster_score(np.array([0, 2, 1, 1]), labels, 3, n_labels=2)
    assert s.accuracy == pytest.approx(0.75)


def test_nmi_of_independent_variables_is_zero():
    assert nmi(np.full((4, 4), 25)) == pytest.approx(0.0, abs=1e-12)


def test_evaluate_reports_accuracy_and_mi(tiny_config, tiny_data):
    torch.manual_seed(0)
    model = InfoGAN.build(tiny_config)
    r = evaluate(model, tiny_data, mi_samples=200, shape_rows=1)
    assert r["code"] == "cat0" and 0 <= r["accuracy"] <= 1 and 0 <= r["nmi"] <= 1
    assert set(r["mi"]) == {"cat0", "c1", "c2"} and r["entropy"]["cat0"] == pytest.approx(np.log(10))
    assert r["l_i_ceiling"] == pytest.approx({"cat0": np.log(10), "c1": np.log(2) - np.log(2 * np.pi) / 2,
                                              "c2": np.log(2) - np.log(2 * np.pi) / 2})
    assert sum(r["usage"]) == len(tiny_data)
    unlabelled = ImageData("u", tiny_data.images, None)
    assert "accuracy" not in evaluate(model, unlabelled, mi_samples=100, shape_rows=1)
