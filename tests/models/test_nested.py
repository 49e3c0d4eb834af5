"""Honesty of the nested cross-validation (issue 13, item 4).

Small fold and bootstrap counts keep these fast; the CLI defaults are larger.
"""

from __future__ import annotations

import numpy as np
import pytest

from nenscope.models.metrics import auc_score, bootstrap_ci
from nenscope.models.nested import (
    Learner,
    Task,
    ValidationSettings,
    fit_final,
    naive_cv_predictions,
    nested_cv,
    outer_splits,
    permuted_target,
)

LR_ONLY = ValidationSettings(learners=(Learner.LOGISTIC,))


def _names(p: int) -> list[str]:
    return [f"f{i}" for i in range(p)]


def _auc_with_ci(y: np.ndarray, scores: np.ndarray, groups: np.ndarray) -> tuple[float, tuple]:
    est = bootstrap_ci(
        lambda r: auc_score(y[r], scores[r]), groups, n_boot=300, rng=np.random.default_rng(9)
    )
    return est.estimate, est.ci95


def test_no_patient_in_two_folds() -> None:
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(40), rng.integers(1, 5, 40))
    y = rng.integers(0, 2, 40)[groups]
    splits = outer_splits(y, groups, task=Task.CLASSIFICATION, n_splits=5, seed=0)
    seen: dict[int, int] = {}
    for k, (train, test) in enumerate(splits):
        assert not set(groups[train]) & set(groups[test])
        for g in set(groups[test].tolist()):
            assert g not in seen, f"patient {g} in folds {seen.get(g)} and {k}"
            seen[g] = k
    assert len(seen) == 40


def test_grouping_stops_leakage_between_lesions_of_one_patient() -> None:
    # 60 patients x 4 identical lesions, labels random per patient: any apparent skill can only
    # come from a patient's lesions on both sides of a fold. A random forest memorises them.
    rng = np.random.default_rng(1)
    per_patient = rng.normal(size=(60, 8))
    groups = np.repeat(np.arange(60), 4)
    x = per_patient[groups]
    y = rng.integers(0, 2, 60)[groups]
    settings = ValidationSettings(
        learners=(Learner.RANDOM_FOREST,), outer_folds=3, inner_folds=2, n_trees=30
    )
    grouped = nested_cv(
        x, y, groups, task=Task.CLASSIFICATION, feature_names=_names(8), settings=settings
    )
    leaky = nested_cv(
        x,
        y,
        np.arange(y.size),
        task=Task.CLASSIFICATION,
        feature_names=_names(8),
        settings=settings,
    )
    assert auc_score(y, leaky.predictions[:, 1]) > 0.9  # the leak, demonstrated
    assert auc_score(y, grouped.predictions[:, 1]) < 0.7


def test_permuted_labels_give_chance_and_naive_selection_shows_optimism() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(120, 300))
    y = rng.integers(0, 2, 120)  # no relation to x
    groups = np.arange(120)
    nested = nested_cv(
        x, y, groups, task=Task.CLASSIFICATION, feature_names=_names(300), settings=LR_ONLY
    )
    estimate, (low, high) = _auc_with_ci(y, nested.predictions[:, 1], groups)
    assert low <= 0.5 <= high
    assert abs(estimate - 0.5) < 0.12
    naive = naive_cv_predictions(x, y, k=10, n_splits=5, seed=0)
    naive_auc = auc_score(y, naive)
    # Selecting 10 of 300 noise features on all cases before CV: markedly optimistic.
    assert naive_auc > 0.7
    assert naive_auc - estimate > 0.15


def _known_effect(n: int, rng: np.random.Generator, p: int = 200) -> tuple[np.ndarray, ...]:
    x = rng.normal(size=(n, p))
    eta = 1.0 * x[:, 0] + 0.8 * x[:, 1] - 0.6 * x[:, 2]
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-eta))).astype(int)
    return x, y


@pytest.mark.slow
def test_nested_estimate_matches_true_auc_of_a_known_effect() -> None:
    rng = np.random.default_rng(0)
    x, y = _known_effect(300, rng)  # 3 informative features among 200
    groups = np.arange(y.size)
    nested = nested_cv(
        x, y, groups, task=Task.CLASSIFICATION, feature_names=_names(200), settings=LR_ONLY
    )
    estimate, (low, high) = _auc_with_ci(y, nested.predictions[:, 1], groups)
    final = fit_final(x, y, groups, task=Task.CLASSIFICATION, settings=LR_ONLY)
    x_new, y_new = _known_effect(20000, np.random.default_rng(100))
    true_auc = auc_score(y_new, final.predict_proba(x_new)[:, 1])
    assert abs(estimate - true_auc) < 0.05
    assert low <= true_auc <= high


@pytest.mark.slow
def test_breast_cancer_nested_auc() -> None:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    nested = nested_cv(
        data.data,
        data.target,
        np.arange(data.target.size),
        task=Task.CLASSIFICATION,
        feature_names=list(data.feature_names),
        settings=LR_ONLY,
    )
    assert auc_score(data.target, nested.predictions[:, 1]) >= 0.98


def test_permutation_keeps_patient_labels_together() -> None:
    groups = np.repeat(np.arange(10), 3)
    y = np.repeat(np.array([0, 1] * 5), 3)
    perm = permuted_target(y, groups, np.random.default_rng(3))
    for g in range(10):
        assert np.unique(perm[groups == g]).size == 1
    assert sorted(perm.tolist()) == sorted(y.tolist())


def test_regression_nested_cv_recovers_a_linear_effect() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(150, 20))
    y = 10.0 + 3.0 * x[:, 0] + rng.normal(0, 1.0, 150)
    settings = ValidationSettings(learners=(Learner.LOGISTIC,), outer_folds=3, inner_folds=2)
    result = nested_cv(
        x, y, np.arange(150), task=Task.REGRESSION, feature_names=_names(20), settings=settings
    )
    # Noise SD 1 -> MAE of a perfect model = sqrt(2/pi) = 0.80.
    mae = np.mean(np.abs(result.predictions - y))
    assert 0.7 < mae < 1.1
