"""Pipeline steps fitted inside the folds: pruning, selection, filters."""

from __future__ import annotations

import numpy as np

from nenscope.models.steps import CorrelationPruner, L1Selector, MRMRSelector, VarianceFilter


def test_correlation_pruner_keeps_one_of_a_duplicated_pair() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 100))
    x = np.column_stack([a, a * 2.0 + 1.0, b])  # columns 0 and 1: rho = 1
    support = CorrelationPruner(threshold=0.9).fit(x).support_
    assert support.sum() == 2
    assert support[2]
    assert CorrelationPruner(threshold=0.9).fit(x).transform(x).shape == (100, 2)


def test_correlation_pruner_with_two_columns() -> None:
    # scipy's spearmanr gives a scalar, not a matrix, for two columns (found by a 2-feature
    # Ki-67 table through the CLI: IndexError).
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, 100))
    pair = CorrelationPruner(threshold=0.9).fit(np.column_stack([a, a * 3.0])).support_
    assert pair.tolist() in ([True, False], [False, True])
    apart = CorrelationPruner(threshold=0.9).fit(np.column_stack([a, b])).support_
    assert apart.tolist() == [True, True]


def test_mrmr_prefers_a_new_signal_to_a_redundant_copy() -> None:
    rng = np.random.default_rng(1)
    s1, s2, noise = rng.normal(size=(3, 300))
    y = (s1 + 0.8 * s2 > 0).astype(int)
    copy = s1 + 0.01 * rng.normal(size=300)
    x = np.column_stack([s1, copy, s2, noise])
    support = MRMRSelector(k=2).fit(x, y).support_
    # The most relevant (s1 or its copy) first, then s2, not the redundant copy.
    assert support[2]
    assert support[0] != support[1]


def test_l1_selector_keeps_the_informative_feature_and_falls_back_to_one() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(200, 5))
    y = (x[:, 3] > 0).astype(int)
    assert L1Selector(c=0.1).fit(x, y).support_[3]
    # A penalty so strong that every coefficient is 0: the most relevant feature is kept.
    support = L1Selector(c=1e-6).fit(x, y).support_
    assert support.sum() == 1
    assert support[3]


def test_variance_filter_drops_constant_columns() -> None:
    x = np.column_stack([np.ones(10), np.arange(10.0)])
    np.testing.assert_array_equal(VarianceFilter().fit(x).support_, [False, True])
