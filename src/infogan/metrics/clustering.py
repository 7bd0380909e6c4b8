"""Clustering scores of a categorical code against labels: Hungarian-matched accuracy and NMI."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment


@dataclass(frozen=True)
class ClusterScore:
    accuracy: float  # share of samples whose code value maps to their label under the best 1:1 mapping
    nmi: float  # normalised mutual information (arithmetic mean of entropies)
    mapping: dict[int, int]  # code value -> label
    confusion: np.ndarray  # [k, n_labels] counts


def confusion_matrix(codes: np.ndarray, labels: np.ndarray, k: int, n_labels: int) -> np.ndarray:
    m = np.zeros((k, n_labels), dtype=np.int64)
    np.add.at(m, (codes, labels), 1)
    return m


def nmi(confusion: np.ndarray) -> float:
    """I(code; label) / mean(H(code), H(label)), from a contingency table."""
    p = confusion / confusion.sum()
    pc, pl = p.sum(1), p.sum(0)
    nz = p > 0
    mi = float((p[nz] * np.log(p[nz] / np.outer(pc, pl)[nz])).sum())
    h = lambda q: float(-(q[q > 0] * np.log(q[q > 0])).sum())
    denom = (h(pc) + h(pl)) / 2
    return mi / denom if denom > 0 else 0.0


def cluster_score(codes: np.ndarray, labels: np.ndarray, k: int, n_labels: int | None = None) -> ClusterScore:
    """Score code values against labels, matching values to labels one-to-one (Hungarian).

    With more code values than labels the unmatched values count as errors, so splitting a
    digit over two values is penalised rather than hidden."""
    codes, labels = np.asarray(codes, dtype=np.int64), np.asarray(labels, dtype=np.int64)
    n_labels = int(labels.max()) + 1 if n_labels is None else n_labels
    conf = confusion_matrix(codes, labels, k, n_labels)
    rows, cols = linear_sum_assignment(conf, maximize=True)
    acc = float(conf[rows, cols].sum() / max(len(codes), 1))
    return ClusterScore(acc, nmi(conf), {int(r): int(c) for r, c in zip(rows, cols)}, conf)
