import numpy as np
import pytest

from infogan.metrics import cluster_score
from infogan.metrics.clustering import confusion_matrix
from infogan.metrics.diagnosis import diagnose

LABELS = np.repeat(np.arange(10), 100)


def test_perfect_clustering_is_clean():
    perm = np.random.default_rng(0).permutation(10)
    d = diagnose(confusion_matrix(perm[LABELS], LABELS, 10, 10))
    assert d.clean and not d.idle
    assert d.line("cat0") == "every label has its own cat0 value"


def test_merge_of_two_digits_and_the_idle_value():
    codes = LABELS.copy()
    codes[LABELS == 9] = 4  # 4 and 9 share value 4; value 9 is left without a digit
    d = diagnose(confusion_matrix(codes, LABELS, 10, 10))
    assert d.merged == {4: [4, 9]} and d.split == {} and d.idle == [9]
    assert d.line("cat0") == "merged: 4+9 in cat0=4; idle: cat0=9"


def test_the_three_way_4_7_9_failure():
    # Seed 2 of the paper-objective runs in docs/history.md: 4/9, 7/9 and 4/7 share three values about half and half.
    codes = np.array([0, 1, 2, 4, -1, 7, 6, -1, 9, -1])[LABELS]  # 3, 5 and 8 on the values 4, 7 and 9 leave
    half = (np.arange(len(LABELS)) % 2) == 0
    codes[(LABELS == 4) & half], codes[(LABELS == 4) & ~half] = 3, 8
    codes[(LABELS == 9) & half], codes[(LABELS == 9) & ~half] = 3, 5
    codes[(LABELS == 7) & half], codes[(LABELS == 7) & ~half] = 5, 8
    d = diagnose(confusion_matrix(codes, LABELS, 10, 10))
    assert d.merged == {3: [4, 9], 5: [7, 9], 8: [4, 7]}
    assert d.split == {4: [3, 8], 7: [5, 8], 9: [3, 5]}
    assert d.idle == []


def test_a_few_strays_are_not_a_merge():
    codes = LABELS.copy()
    strays = np.flatnonzero(LABELS == 1)[:10]
    codes[strays] = 7  # 10% of the 1s land on 7's value
    d = diagnose(confusion_matrix(codes, LABELS, 10, 10))
    assert d.clean
    codes[np.flatnonzero(LABELS == 1)[:30]] = 7  # 30%: now a real split and merge
    d = diagnose(confusion_matrix(codes, LABELS, 10, 10))
    assert d.split == {1: [1, 7]} and d.merged == {7: [1, 7]}


def test_hungarian_score_is_invariant_to_renaming_code_values():
    rng = np.random.default_rng(1)
    codes = np.where(rng.random(len(LABELS)) < 0.8, LABELS, rng.integers(0, 10, len(LABELS)))
    base = cluster_score(codes, LABELS, 10)
    for _ in range(3):
        perm = rng.permutation(10)
        s = cluster_score(perm[codes], LABELS, 10)
        assert s.accuracy == pytest.approx(base.accuracy) and s.nmi == pytest.approx(base.nmi)
        assert all(s.mapping[int(perm[v])] == base.mapping[v] for v in range(10))
    assert 0.75 < base.accuracy < 0.9
