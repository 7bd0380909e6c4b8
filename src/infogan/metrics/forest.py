"""A small random forest classifier in numpy, for DCI's feature importances without sklearn.

Bagged CART trees (Breiman, 2001): each tree is grown on a bootstrap sample, every node split on the feature and
threshold that most reduce the Gini impurity, every feature considered at every node (as gradient boosted trees do;
a random feature subset would hand importance to features that only happened to be drawn). Features are cut into
at most ``bins`` quantile bins of the training data, so thresholds lie between bin edges; a feature with fewer
distinct values keeps one bin per value. Trees are grown level by level, all nodes of a level at once, to
``depth`` levels of splits; a node stops when it is pure or no split reduces the impurity.

Importance is sklearn's mean decrease in impurity: per tree, each feature's total weighted Gini decrease,
normalised to sum 1; averaged over trees. Predictions average the trees' leaf class frequencies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TREES = 10
DEPTH = 8
BINS = 64
_MIN_GAIN = 1e-9  # in samples: a split must beat float noise


@dataclass(frozen=True)
class Tree:
    """Heap layout: node i has children 2i+1 (bin <= threshold) and 2i+2; ``feature`` -1 marks a leaf."""

    feature: np.ndarray  # int64 [nodes]
    threshold: np.ndarray  # int64 [nodes], a bin index
    frequency: np.ndarray  # float64 [nodes, classes], the training class frequencies at each node

    def leaf_frequency(self, binned: np.ndarray) -> np.ndarray:
        node = np.zeros(len(binned), dtype=np.int64)
        rows = np.arange(len(binned))
        while True:
            f = self.feature[node]
            inner = f >= 0
            if not inner.any():
                return self.frequency[node]
            right = binned[rows[inner], f[inner]] > self.threshold[node[inner]]
            node[inner] = 2 * node[inner] + 1 + right


@dataclass(frozen=True)
class Forest:
    edges: list[np.ndarray]  # per feature, the inner bin edges
    trees: list[Tree]
    importance: np.ndarray  # [features], sums to 1 (all 0 when no tree split)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The class index (0..classes-1) with the highest mean leaf frequency over the trees."""
        binned = _bin(x, self.edges)
        return sum(t.leaf_frequency(binned) for t in self.trees).argmax(axis=1)


def fit_forest(x: np.ndarray, y: np.ndarray, n_classes: int, rng: np.random.Generator, trees: int = TREES,
               depth: int = DEPTH, bins: int = BINS) -> Forest:
    """A forest for features ``x`` [N, D] and class indices ``y`` [N] in 0..n_classes-1."""
    quantiles = np.linspace(0, 1, bins + 1)[1:-1]
    edges = [np.unique(np.quantile(x[:, d], quantiles)) for d in range(x.shape[1])]
    binned = _bin(x, edges)
    grown = [_grow_bagged(binned, y, n_classes, bins, depth, rng) for _ in range(trees)]
    importance = np.mean([imp for _, imp in grown], axis=0)
    return Forest(edges, [tree for tree, _ in grown], importance)


def _grow_bagged(binned: np.ndarray, y: np.ndarray, n_classes: int, bins: int, depth: int,
                 rng: np.random.Generator) -> tuple[Tree, np.ndarray]:
    """A tree on a bootstrap sample, its features in a random order: equal splits (duplicated features) go to
    the first, so the order decides ties, and over the trees the importance of copies is shared."""
    sample = rng.integers(len(binned), size=len(binned))
    order = rng.permutation(binned.shape[1])
    tree, shuffled_importance = _grow(binned[sample][:, order], y[sample], n_classes, bins, depth)
    importance = np.zeros_like(shuffled_importance)
    importance[order] = shuffled_importance
    feature = np.where(tree.feature >= 0, order[tree.feature], -1)
    return Tree(feature, tree.threshold, tree.frequency), importance


def _bin(x: np.ndarray, edges: list[np.ndarray]) -> np.ndarray:
    return np.stack([np.searchsorted(e, x[:, d], side="right") for d, e in enumerate(edges)], axis=1)


def _grow(binned: np.ndarray, y: np.ndarray, n_classes: int, bins: int, depth: int) -> tuple[Tree, np.ndarray]:
    n, n_features = binned.shape
    size = 2 ** (depth + 1) - 1
    feature = np.full(size, -1, dtype=np.int64)
    threshold = np.zeros(size, dtype=np.int64)
    frequency = np.zeros((size, n_classes))
    importance = np.zeros(n_features)
    node = np.zeros(n, dtype=np.int64)  # each sample's node
    for level in range(depth + 1):
        first, width = 2**level - 1, 2**level
        local = node - first
        live = (local >= 0) & (local < width)  # samples whose node is on this level, not in a leaf above
        if not live.any():
            break
        loc, yl = local[live], y[live]
        counts = np.bincount(loc * n_classes + yl, minlength=width * n_classes).reshape(width, n_classes)
        frequency[first : first + width] = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        if level == depth:
            break
        # Only impure nodes can split; their samples fill the class counts left of every threshold,
        # [nodes, features, bins, classes].
        impure = np.flatnonzero((counts > 0).sum(axis=1) > 1)
        if impure.size == 0:
            break
        slot = np.full(width, -1)
        slot[impure] = np.arange(impure.size)
        rows = np.flatnonzero(live)[slot[loc] >= 0]
        s, ys = slot[node[rows] - first], y[rows]
        index = ((s[:, None] * n_features + np.arange(n_features)) * bins + binned[rows]) * n_classes + ys[:, None]
        left = np.bincount(index.ravel(), minlength=impure.size * n_features * bins * n_classes)
        left = left.reshape(impure.size, n_features, bins, n_classes).cumsum(axis=2)
        parent = counts[impure]
        gain = _impurity(parent)[:, None, None] - _impurity(left) - _impurity(parent[:, None, None, :] - left)
        gain = gain.reshape(impure.size, -1)
        best = gain.argmax(axis=1)
        best_gain = gain[np.arange(impure.size), best]
        split = best_gain > _MIN_GAIN
        ids = first + impure[split]
        feature[ids], threshold[ids] = np.divmod(best[split], bins)
        np.add.at(importance, feature[ids], best_gain[split])
        # Move the samples of split nodes to their children.
        moving = rows[split[s]]
        f = feature[node[moving]]
        node[moving] = 2 * node[moving] + 1 + (binned[moving, f] > threshold[node[moving]])
    total = importance.sum()
    return Tree(feature, threshold, frequency), importance / total if total > 0 else importance


def _impurity(counts: np.ndarray) -> np.ndarray:
    """n x Gini impurity (n - sum of squared counts / n) over the last axis; 0 for an empty node."""
    n = counts.sum(axis=-1)
    squares = (counts.astype(np.float64) ** 2).sum(axis=-1)
    return n - np.divide(squares, n, out=np.zeros_like(squares), where=n > 0)
