import numpy as np
import pytest

from infogan.metrics.forest import fit_forest


def test_forest_learns_an_interaction_and_ignores_a_useless_feature():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(3000, 3))
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(np.int64)  # no single feature, and no linear model, predicts y
    forest = fit_forest(x[:2000], y[:2000], 2, np.random.default_rng(0), trees=5, depth=4)
    assert (forest.predict(x[2000:]) == y[2000:]).mean() > 0.95
    assert forest.importance.sum() == pytest.approx(1.0)
    assert forest.importance[2] < 0.05 and abs(forest.importance[0] - forest.importance[1]) < 0.2


def test_forest_classifies_values_that_come_back_round():
    x = np.linspace(0, 2 * np.pi, 4000)[:, None]  # like orientation: the first and last class touch
    y = (np.floor(x[:, 0] / (2 * np.pi) * 8) % 8).astype(np.int64)
    y[x[:, 0] > 7 / 4 * np.pi] = 0
    forest = fit_forest(x, y, 8, np.random.default_rng(0), trees=3)
    assert (forest.predict(x) == y).mean() > 0.99


def test_copies_of_a_feature_share_its_importance():
    rng = np.random.default_rng(1)
    y = rng.integers(5, size=2000)
    x = np.stack([y, y, rng.normal(size=2000)], axis=1).astype(float)
    forest = fit_forest(x, y, 5, np.random.default_rng(0), trees=20)
    assert forest.importance[0] > 0.2 and forest.importance[1] > 0.2 and forest.importance[2] < 0.01


def test_a_single_class_gives_no_splits():
    x = np.random.default_rng(0).normal(size=(100, 2))
    forest = fit_forest(x, np.zeros(100, dtype=np.int64), 1, np.random.default_rng(0), trees=2)
    assert forest.importance.tolist() == [0.0, 0.0] and (forest.predict(x) == 0).all()
