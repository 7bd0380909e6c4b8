"""Disentanglement of Q's codes against known factors of variation (dSprites): FactorVAE score, MIG, SAP, DCI.

Each metric is computed as the paper that defines it says, with the estimator settings of disentanglement_lib
(Locatello et al., ICML 2019; github.com/google-research/disentanglement_lib, ``evaluation/metrics`` and the
study gin configs) wherever that library fixes one. Where this module differs, it says so below.

Representation: Q is the encoder. A continuous code gives one dimension, the mean of Q's Gaussian; a categorical
code gives k dimensions, its softmax probabilities (an argmax index would make variances and linear classifiers
depend on the arbitrary order of the values). So a categorical code that captures a factor spreads it over k
dimensions, which MIG and SAP (one dimension per factor) count against it. The ``dsprites`` preset has five
continuous codes, so five dimensions.

Sampling: Q is run once on a pool of ``n`` images (default 15,000) drawn at random without replacement from the
data. The first two thirds of the pool are the "train" part (10,000 by default, disentanglement_lib's
``num_train``), the rest the "test" part (5,000, its ``num_test``). disentanglement_lib draws fresh images for every
FactorVAE batch, 960,000 encoder passes (about 20 minutes at the 1.25 ms per image that the dsprites Q takes on
2 CPU cores); here the FactorVAE batches are drawn from the pool instead. A factor that takes one value only in the pool is left out of every metric.

FactorVAE score (Kim & Mnih, ICML 2018, arXiv 1802.05983):
  - global variance of each dimension over the pool (ddof 1; disentanglement_lib: 10,000 fresh images);
  - dimensions whose global standard deviation is below 0.05 are pruned (``prune_dims.threshold = 0.05``);
  - a vote: pick a factor uniformly, an anchor image of the pool uniformly and a batch of 64 pool images that share
    the anchor's value of that factor (without replacement; all of them when fewer than 64); the active dimension
    with the least variance over the batch divided by its global variance votes for the factor;
  - 10,000 training votes and 5,000 evaluation votes; the majority-vote classifier maps each dimension to the factor
    it got most training votes for; the score is its accuracy on the evaluation votes (0 when no dimension is active).

MIG, mutual information gap (Chen et al., NeurIPS 2018, arXiv 1802.04942):
  - each dimension of the train part is cut into 20 equal-width bins between its minimum and maximum
    (disentanglement_lib's ``histogram_discretizer``, ``num_bins = 20``, on ``num_train = 10,000`` points);
  - discrete mutual information (nats) of every binned dimension with every factor's classes; per factor, the gap
    between the largest and the second largest divided by the factor's entropy; the mean over factors.

SAP, separated attribute predictability (Kumar et al., ICLR 2018, arXiv 1711.00848), with factors scored as discrete
(disentanglement_lib's ``continuous_factors = False``):
  - score[d, f] = accuracy on the test part of a classifier that predicts factor f's class from dimension d alone,
    fitted on the train part; per factor the gap between the best and the second best dimension; the mean over
    factors. Even a perfect encoder scores below 1: the second best dimension still guesses at chance.
  - Classifier: disentanglement_lib fits sklearn's ``LinearSVC(C=0.01, class_weight="balanced")``. sklearn is not a
    dependency here, so the classifier is nearest class mean on the one dimension (linear discriminant analysis with
    equal class priors, as "balanced" weighs classes equally). It picks from the same family of decision rules,
    argmax of one linear function of the dimension per class, so every class wins on at most one interval, but it is
    fitted in closed form, by a different criterion and without a regularisation constant, so SAP values here are
    not numerically those of disentanglement_lib.

DCI disentanglement, completeness and informativeness (Eastwood & Williams, ICLR 2018, openreview By-7dz-AZ):
  - an importance matrix R[d, f] of dimension d for predicting factor f; disentanglement: 1 - the entropy (base F)
    of each dimension's row of R normalised to sum 1, weighted by the row's share of all importance; completeness:
    1 - the entropy (base D) of each factor's normalised column, weighted likewise; informativeness: the mean
    accuracy of the factor classifiers on the train and on the test part (disentanglement_lib's
    ``informativeness_train`` / ``informativeness_test``; Eastwood & Williams report a prediction error instead).
  - Estimator: disentanglement_lib fits sklearn's ``GradientBoostingClassifier()`` per factor (100 boosting stages
    of depth-3 regression trees, one per class and stage, learning rate 0.1) and takes its impurity importances.
    sklearn is not a dependency here, so each factor gets a small random forest written in numpy
    (``infogan.metrics.forest``): 10 trees, each grown on a bootstrap sample of the train part to 8 levels of Gini
    splits over every dimension, dimensions cut into at most 64 quantile bins; R[:, f] is its mean decrease in
    impurity, which sums to 1 over the dimensions as sklearn's does. Like boosted trees it credits a dimension that
    codes a factor non-monotonically (orientation wrapping around), which a linear model (Eastwood & Williams'
    Lasso) would not; unlike them it averages independent deep trees instead of adding shallow corrections, so
    its importances and informativeness are not numerically disentanglement_lib's. A tree splits on the first
    of equally good dimensions; the dimensions are shuffled for each tree, so copies of a dimension share its
    importance over the forest.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ..data import ImageData
from ..errors import DataError
from ..model import InfoGAN
from .forest import fit_forest

TRAIN_SHARE = 2 / 3  # 10,000 train + 5,000 test points out of the default pool of 15,000
MIN_IMAGES = 12  # enough for a train and a test part with a few images each

FACTOR_VAE_BATCH = 64
FACTOR_VAE_TRAIN_VOTES = 10_000
FACTOR_VAE_EVAL_VOTES = 5_000
FACTOR_VAE_PRUNE_STD = 0.05
MIG_BINS = 20


@dataclass(frozen=True)
class Representation:
    """What the encoder makes of some images: ``values`` float64 [N, D], one name per dimension."""

    values: np.ndarray
    names: tuple[str, ...]


@dataclass(frozen=True)
class FactorVAEScore:
    eval_accuracy: float  # the score
    train_accuracy: float
    active_dims: int


@dataclass(frozen=True)
class MIGScore:
    score: float
    per_factor: np.ndarray  # [F] normalised gap
    mutual_info: np.ndarray  # [D, F] nats


@dataclass(frozen=True)
class SAPScore:
    score: float
    accuracy: np.ndarray  # [D, F] test accuracy of the one-dimension classifiers


@dataclass(frozen=True)
class DCIScore:
    disentanglement: float
    completeness: float
    informativeness_train: float
    informativeness_test: float
    importance: np.ndarray  # [D, F], each column sums to 1 (or is all 0)


@dataclass(frozen=True)
class DisentanglementScores:
    factor_vae: FactorVAEScore
    mig: MIGScore
    sap: SAPScore
    dci: DCIScore
    dims: tuple[str, ...]
    factors: tuple[str, ...]
    n_train: int
    n_test: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values: the headline scores first, then the matrices behind them."""
        return {
            "factor_vae": self.factor_vae.eval_accuracy,
            "mig": self.mig.score,
            "sap": self.sap.score,
            "dci_disentanglement": self.dci.disentanglement,
            "dci_completeness": self.dci.completeness,
            "dci_informativeness": self.dci.informativeness_test,
            "factor_vae_train": self.factor_vae.train_accuracy,
            "factor_vae_active_dims": self.factor_vae.active_dims,
            "dci_informativeness_train": self.dci.informativeness_train,
            "mig_per_factor": dict(zip(self.factors, self.mig.per_factor.tolist())),
            "mutual_info": self.mig.mutual_info.tolist(),  # rows: dims, columns: factors
            "sap_accuracy": self.sap.accuracy.tolist(),
            "dci_importance": self.dci.importance.tolist(),
            "dims": list(self.dims),
            "factors": list(self.factors),
            "n_train": self.n_train,
            "n_test": self.n_test,
            "seconds": self.seconds,
        }


# ---- the representation -----------------------------------------------------------------------------------------
def q_representation(model: InfoGAN, images: torch.Tensor) -> Representation:
    """Q's estimates as a vector per image: continuous codes' means, categorical codes' softmax probabilities."""
    stats = model.spec.split_q(model.encode(images))
    columns, names = [], []
    for code in model.spec.codes:
        s = stats[code.name]
        if code.categorical:
            columns.append(torch.softmax(s.logits.double(), dim=1))
            names += [f"{code.name}={v}" for v in range(code.k)]
        else:
            columns.append(s.mean.double()[:, None])
            names.append(code.name)
    return Representation(torch.cat(columns, dim=1).numpy(), tuple(names))


# ---- the metrics, on arrays ----------------------------------------------------------------------------------------
def factor_vae_score(
    rep: np.ndarray,
    classes: np.ndarray,
    rng: np.random.Generator,
    batch_size: int = FACTOR_VAE_BATCH,
    train_votes: int = FACTOR_VAE_TRAIN_VOTES,
    eval_votes: int = FACTOR_VAE_EVAL_VOTES,
    prune_std: float = FACTOR_VAE_PRUNE_STD,
) -> FactorVAEScore:
    """Kim & Mnih's majority-vote score, batches drawn from the rows of ``rep`` [N, D] with factor ``classes`` [N, F]."""
    global_var = rep.var(axis=0, ddof=1)
    active = active_dims(global_var, prune_std)
    if active.size == 0:
        return FactorVAEScore(0.0, 0.0, 0)
    # Per factor, the pool rows of each value that has at least 2 (a variance needs two points).
    groups = []
    for f in range(classes.shape[1]):
        values, inverse = np.unique(classes[:, f], return_inverse=True)
        members = [np.flatnonzero(inverse == v) for v in range(len(values))]
        groups.append([m for m in members if len(m) >= 2])
    factors = [f for f in range(classes.shape[1]) if groups[f]]
    if not factors:
        raise DataError("the FactorVAE score needs two images that share a factor value; use more images")
    # Anchors are uniform over the pool, so a value is picked in proportion to its number of images.
    odds = {f: np.array([len(m) for m in groups[f]]) / sum(len(m) for m in groups[f]) for f in factors}

    def votes(n: int) -> np.ndarray:
        table = np.zeros((classes.shape[1], rep.shape[1]), dtype=np.int64)
        for _ in range(n):
            f = factors[rng.integers(len(factors))]
            members = groups[f][rng.choice(len(odds[f]), p=odds[f])]
            batch = rng.choice(members, size=min(batch_size, len(members)), replace=False)
            table[f, least_variance_dim(rep[batch].var(axis=0, ddof=1), global_var, active)] += 1
        return table

    train = votes(train_votes)
    eval_accuracy, train_accuracy = majority_vote_accuracy(train, votes(eval_votes))
    return FactorVAEScore(eval_accuracy, train_accuracy, int(active.size))


def active_dims(global_var: np.ndarray, prune_std: float = FACTOR_VAE_PRUNE_STD) -> np.ndarray:
    """The dimensions FactorVAE keeps, given each one's global variance: those whose standard deviation reaches
    ``prune_std``."""
    return np.flatnonzero(np.sqrt(global_var) >= prune_std)


def least_variance_dim(local_var: np.ndarray, global_var: np.ndarray, active: np.ndarray) -> int:
    """FactorVAE's vote of a batch that shares one factor's value, from each dimension's variance over the batch
    (``local_var``): the ``active`` dimension whose variance over the batch divided by its ``global_var`` is the
    least."""
    return int(active[np.argmin(local_var[active] / global_var[active])])


def majority_vote_accuracy(train: np.ndarray, evaluation: np.ndarray) -> tuple[float, float]:
    """FactorVAE's classifier from vote tables [F, D] (how often a batch sharing factor f voted for dimension d):
    each dimension stands for the factor it got most ``train`` votes for. Its accuracy on ``evaluation`` and on
    ``train``."""
    classifier = train.argmax(axis=0)
    dims = np.arange(train.shape[1])
    accuracy = lambda table: float(table[classifier, dims].sum() / table.sum())
    return accuracy(evaluation), accuracy(train)


def mig_score(rep: np.ndarray, classes: np.ndarray, bins: int = MIG_BINS) -> MIGScore:
    """Chen et al.'s mutual information gap with ``bins`` equal-width histogram bins per dimension."""
    binned = [_histogram_bins(rep[:, d], bins) for d in range(rep.shape[1])]
    factors = [np.unique(classes[:, f], return_inverse=True)[1] for f in range(classes.shape[1])]
    mi = np.array([[_mutual_info(b, y) for y in factors] for b in binned])
    entropy = np.array([_entropy(np.bincount(y)) for y in factors])
    top = -np.sort(-mi, axis=0)
    second = top[1] if len(top) > 1 else np.zeros(len(factors))
    per_factor = (top[0] - second) / entropy
    return MIGScore(float(per_factor.mean()), per_factor, mi)


def sap_score(rep_train: np.ndarray, classes_train: np.ndarray, rep_test: np.ndarray,
              classes_test: np.ndarray) -> SAPScore:
    """Kumar et al.'s SAP with discrete factors: one-dimension nearest-class-mean classifiers' test accuracy."""
    accuracy = np.zeros((rep_train.shape[1], classes_train.shape[1]))
    for f in range(classes_train.shape[1]):
        labels, y = np.unique(classes_train[:, f], return_inverse=True)
        counts = np.bincount(y)
        # Class means of every dimension at once: [D, classes].
        means = np.stack([np.bincount(y, weights=rep_train[:, d]) / counts for d in range(rep_train.shape[1])])
        nearest = np.abs(rep_test[:, :, None] - means[None]).argmin(axis=2)  # [N_test, D]
        accuracy[:, f] = (labels[nearest] == classes_test[:, f, None]).mean(axis=0)
    top = -np.sort(-accuracy, axis=0)
    second = top[1] if len(top) > 1 else np.zeros(accuracy.shape[1])
    return SAPScore(float((top[0] - second).mean()), accuracy)


def dci_score(rep_train: np.ndarray, classes_train: np.ndarray, rep_test: np.ndarray, classes_test: np.ndarray,
              rng: np.random.Generator) -> DCIScore:
    """Eastwood & Williams' DCI with random-forest importances (see the module docstring)."""
    importance = np.zeros((rep_train.shape[1], classes_train.shape[1]))
    acc_train, acc_test = [], []
    for f in range(classes_train.shape[1]):
        labels, y = np.unique(classes_train[:, f], return_inverse=True)
        forest = fit_forest(rep_train, y, len(labels), rng)
        importance[:, f] = forest.importance
        acc_train.append(float((labels[forest.predict(rep_train)] == classes_train[:, f]).mean()))
        acc_test.append(float((labels[forest.predict(rep_test)] == classes_test[:, f]).mean()))
    return DCIScore(
        _weighted_one_minus_entropy(importance),
        _weighted_one_minus_entropy(importance.T),
        float(np.mean(acc_train)),
        float(np.mean(acc_test)),
        importance,
    )


# ---- on a model and data ---------------------------------------------------------------------------------------------
def disentanglement_scores(model: InfoGAN, data: ImageData, n: int = 15_000, seed: int = 0) -> DisentanglementScores:
    """The four metrics of Q on ``n`` images of ``data`` (all of them when it has fewer)."""
    return score_encoder(lambda images: q_representation(model, images), data, n, seed)


def score_encoder(encode: Callable[[torch.Tensor], Representation], data: ImageData, n: int = 15_000,
                  seed: int = 0) -> DisentanglementScores:
    """The four metrics of any encoder (uint8 images -> ``Representation``) on ``n`` images of ``data``."""
    if data.factors is None:
        raise DataError(f"data {data.name} has no ground-truth factors; disentanglement metrics need e.g. dsprites")
    n = min(n, len(data))
    if n < MIN_IMAGES:
        raise DataError(f"disentanglement metrics need at least {MIN_IMAGES} images with factors, got {n}; "
                        "evaluate on more images")
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    pool = rng.permutation(len(data))[:n]  # shuffled: the data are in factor order, the split must not be
    classes = data.factors.classes[pool].numpy()
    varying = [f for f in range(classes.shape[1]) if len(np.unique(classes[:, f])) > 1]
    if not varying:
        raise DataError(f"no factor of {data.name} varies over the {n} images; evaluate on more images")
    classes = classes[:, varying]
    rep = encode(data.images[pool])
    values = rep.values.astype(np.float64)
    n_train = round(n * TRAIN_SHARE)
    train, test = slice(0, n_train), slice(n_train, n)
    return DisentanglementScores(
        factor_vae=factor_vae_score(values, classes, rng),
        mig=mig_score(values[train], classes[train]),
        sap=sap_score(values[train], classes[train], values[test], classes[test]),
        dci=dci_score(values[train], classes[train], values[test], classes[test], rng),
        dims=rep.names,
        factors=tuple(data.factors.names[f] for f in varying),
        n_train=n_train,
        n_test=n - n_train,
        seconds=round(time.perf_counter() - t0, 2),
    )


# ---- helpers -----------------------------------------------------------------------------------------------------------
def _histogram_bins(x: np.ndarray, bins: int) -> np.ndarray:
    """Bin index 0..bins-1 of each value, ``bins`` equal-width bins from min to max (the max in the last bin)."""
    edges = np.histogram_bin_edges(x, bins)
    return np.clip(np.searchsorted(edges, x, side="right") - 1, 0, bins - 1)


def _entropy(counts: np.ndarray) -> float:
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log(p)).sum())


def _mutual_info(a: np.ndarray, b: np.ndarray) -> float:
    """Plug-in mutual information (nats) of two integer labelings from their contingency table."""
    joint = np.bincount(a * (b.max() + 1) + b).astype(np.float64)
    return _entropy(np.bincount(a)) + _entropy(np.bincount(b)) - _entropy(joint)


def _weighted_one_minus_entropy(importance: np.ndarray) -> float:
    """DCI's disentanglement of ``importance`` [D, F] (its completeness when transposed): 1 - H(row), base F,
    averaged with each row's share of the total importance as its weight."""
    rows, cols = importance.shape
    if cols == 1:
        return 1.0
    total = importance.sum()
    weights = importance.sum(axis=1) / total if total > 0 else np.full(rows, 1 / rows)
    sums = importance.sum(axis=1, keepdims=True)
    p = np.divide(importance, sums, out=np.full_like(importance, 1 / cols), where=sums > 0)
    h = -(p * np.log(np.where(p > 0, p, 1.0))).sum(axis=1) / math.log(cols)
    return float((weights * (1 - h)).sum())
