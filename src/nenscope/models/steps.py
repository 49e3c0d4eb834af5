"""Pipeline steps fitted inside each training fold: harmonisation, filters, feature selection.

Every step is a scikit-learn transformer, so ``GridSearchCV`` refits it on each inner training
fold and the nested cross-validation never lets a validation case inform a filter, a selection
or a batch estimate. Each step records ``support_`` (a boolean mask over its input columns) so
the selected feature names can be traced back through the pipeline.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import numpy.typing as npt
from scipy import stats
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_selection import f_classif, f_regression
from sklearn.linear_model import Lasso, LogisticRegression

from nenscope.models.combat import ComBatFit, apply_combat, fit_combat

__all__ = [
    "ComBatHarmoniser",
    "CorrelationPruner",
    "L1Selector",
    "MRMRSelector",
    "VarianceFilter",
    "relevance_scores",
]

FloatArray = npt.NDArray[np.float64]

_STD_RTOL = 1e-9
"""A feature whose training-fold standard deviation is below this fraction of its mean
magnitude (or exactly 0) carries no information in that fold and is dropped."""


def relevance_scores(x: FloatArray, y: npt.NDArray[Any], *, classification: bool) -> FloatArray:
    """Univariate relevance of each column: the ANOVA F (classes) or regression F statistic.

    Non-finite scores (a constant column) become 0.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        f, _ = f_classif(x, y) if classification else f_regression(x, y)
    return np.nan_to_num(np.asarray(f, dtype=np.float64), nan=0.0, posinf=0.0)


class _Step(TransformerMixin, BaseEstimator):  # type: ignore[misc]  # sklearn has no types
    support_: npt.NDArray[np.bool_]

    def transform(self, x: npt.ArrayLike) -> FloatArray:
        """Keep the supported columns of ``x`` (cases, features)."""
        data = np.asarray(x, dtype=np.float64)
        return data[:, self.support_]


class ComBatHarmoniser(TransformerMixin, BaseEstimator):  # type: ignore[misc]  # sklearn untyped
    """ComBat across batches; the batch code is the LAST input column and is removed.

    Parameters
    ----------
    enabled
        When False the batch column is simply dropped (the grid can switch harmonisation).
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled

    def fit(self, x: npt.ArrayLike, y: object = None) -> Self:
        """Fit ComBat on the training cases."""
        data = np.asarray(x, dtype=np.float64)
        self.fit_: ComBatFit | None = None
        if self.enabled:
            self.fit_ = fit_combat(data[:, :-1], _codes(data[:, -1]))
        return self

    def transform(self, x: npt.ArrayLike) -> FloatArray:
        """Harmonise (cases, features + batch code) and return (cases, features)."""
        data = np.asarray(x, dtype=np.float64)
        if self.fit_ is None:
            return data[:, :-1].copy()
        return apply_combat(self.fit_, data[:, :-1], _codes(data[:, -1]))


def _codes(column: FloatArray) -> list[str]:
    return [str(int(v)) for v in column]


class VarianceFilter(_Step):
    """Drop columns that are constant in the training fold."""

    def fit(self, x: npt.ArrayLike, y: object = None) -> Self:
        """Find the non-constant columns."""
        data = np.asarray(x, dtype=np.float64)
        std = data.std(axis=0)
        scale = np.abs(data).mean(axis=0)
        self.support_ = std > _STD_RTOL * np.maximum(scale, np.finfo(np.float64).tiny)
        if not np.any(self.support_):
            self.support_[0] = True  # keep one column so later steps have an input
        return self


class CorrelationPruner(_Step):
    """Drop one of each pair of columns whose |Spearman rho| exceeds ``threshold``.

    Parameters
    ----------
    threshold
        Absolute rank correlation above which two features count as redundant.

    Notes
    -----
    Greedy, as caret's ``findCorrelation``: while a pair above the threshold remains, the
    member with the larger mean absolute correlation to all other columns is removed.
    Unsupervised; fitted on the training fold only.
    """

    def __init__(self, threshold: float = 0.9) -> None:
        self.threshold = threshold

    def fit(self, x: npt.ArrayLike, y: object = None) -> Self:
        """Find the columns to keep."""
        data = np.asarray(x, dtype=np.float64)
        n = data.shape[1]
        keep = np.ones(n, dtype=bool)
        if n > 1:
            # With two columns spearmanr returns the one coefficient, not a 2 x 2 matrix.
            statistic = stats.spearmanr(data).statistic
            rho = np.abs(np.array([[1.0, statistic], [statistic, 1.0]]) if n == 2 else statistic)
            np.fill_diagonal(rho, 0.0)
            rho = np.nan_to_num(rho)
            mean_abs = rho.mean(axis=0)
            while True:
                sub = rho[np.ix_(keep, keep)]
                if sub.size == 0 or sub.max() <= self.threshold:
                    break
                i, j = np.unravel_index(int(np.argmax(sub)), sub.shape)
                idx = np.flatnonzero(keep)
                drop = idx[i] if mean_abs[idx[i]] >= mean_abs[idx[j]] else idx[j]
                keep[drop] = False
        self.support_ = keep
        return self


class MRMRSelector(_Step):
    """Minimum-redundancy maximum-relevance selection of ``k`` columns (F-test quotient).

    Parameters
    ----------
    k
        Number of columns to keep (all of them when there are fewer).
    classification
        Relevance by ANOVA F (classes) or regression F (numeric target).

    Notes
    -----
    Ding C, Peng H. Minimum redundancy feature selection from microarray gene expression data.
    J Bioinform Comput Biol 2005;3:185-205: the next feature maximises relevance divided by its
    mean absolute Pearson correlation with the features already chosen (FCQ variant).
    """

    def __init__(self, k: int = 10, classification: bool = True) -> None:
        self.k = k
        self.classification = classification

    def fit(self, x: npt.ArrayLike, y: npt.ArrayLike) -> Self:
        """Choose the columns on the training fold."""
        data = np.asarray(x, dtype=np.float64)
        target = np.asarray(y)
        n = data.shape[1]
        relevance = relevance_scores(data, target, classification=self.classification)
        with np.errstate(divide="ignore", invalid="ignore"):
            corr = np.abs(np.nan_to_num(np.atleast_2d(np.corrcoef(data, rowvar=False))))
        chosen = [int(np.argmax(relevance))]
        redundancy = corr[chosen[0]].copy()
        for step in range(1, min(self.k, n)):
            score = relevance / np.maximum(redundancy / step, 1e-12)
            score[chosen] = -np.inf
            best = int(np.argmax(score))
            chosen.append(best)
            redundancy += corr[best]
        self.support_ = np.zeros(n, dtype=bool)
        self.support_[chosen] = True
        return self


class L1Selector(_Step):
    """Keep the columns with a non-zero L1-penalised coefficient (LASSO / L1 logistic).

    Parameters
    ----------
    c
        Inverse penalty strength of the L1 logistic regression; for a numeric target the
        LASSO penalty is ``alpha = 1 / (c * n_cases)`` (the same scaling as liblinear).
    classification
        L1 logistic regression (classes) or LASSO (numeric target).

    Notes
    -----
    Features should be standardised first (the pipeline scales before selecting). When the
    penalty removes every feature, the single most relevant one (F statistic) is kept.
    """

    def __init__(self, c: float = 0.1, classification: bool = True) -> None:
        self.c = c
        self.classification = classification

    def fit(self, x: npt.ArrayLike, y: npt.ArrayLike) -> Self:
        """Fit the penalised model on the training fold."""
        data = np.asarray(x, dtype=np.float64)
        target = np.asarray(y)
        if self.classification:
            # One L1 logistic regression per class against the rest (liblinear is binary);
            # a feature is kept when any of them uses it.
            classes = np.unique(target)
            coefs = []
            for cls in classes[1:] if classes.size == 2 else classes:
                model = LogisticRegression(
                    l1_ratio=1.0, C=self.c, solver="liblinear", class_weight="balanced"
                )
                coefs.append(np.abs(model.fit(data, target == cls).coef_[0]))
            coef = np.max(coefs, axis=0)
        else:
            alpha = 1.0 / (self.c * data.shape[0])
            coef = np.abs(Lasso(alpha=alpha, max_iter=10000).fit(data, target).coef_)
        self.support_ = coef > 0
        if not np.any(self.support_):
            relevance = relevance_scores(data, target, classification=self.classification)
            self.support_[int(np.argmax(relevance))] = True
        return self
