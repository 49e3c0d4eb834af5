"""Performance measures of out-of-fold predictions: AUC, calibration, decision curve, CIs.

Pure functions of arrays (true values, predictions, groups); the nested cross-validation in
``nenscope.models.nested`` produces the out-of-fold predictions they are applied to.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.metrics import mean_absolute_error, r2_score, roc_auc_score

__all__ = [
    "Calibration",
    "DecisionCurve",
    "Estimate",
    "auc_score",
    "bootstrap_ci",
    "calibration",
    "decision_curve",
    "grade_confusion",
    "regression_calibration",
    "weighted_kappa",
]

FloatArray = npt.NDArray[np.float64]

PROB_CLIP = 1e-6
"""Predicted probabilities are clipped to [PROB_CLIP, 1 - PROB_CLIP] before the logit, so a
probability of exactly 0 or 1 from a tree ensemble does not make the calibration fit infinite."""

_NEWTON_ITER = 50


@dataclass(frozen=True, slots=True, kw_only=True)
class Estimate:
    """A performance estimate with its bootstrap 95 % confidence interval.

    Parameters
    ----------
    estimate
        Value on all out-of-fold predictions.
    ci95
        (low, high) percentile bootstrap interval over patients (groups).
    n_boot
        Bootstrap resamples that could be scored (a resample with one class cannot).
    """

    estimate: float
    ci95: tuple[float, float]
    n_boot: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Calibration:
    """Calibration of predicted probabilities (binary target, or one class vs the rest).

    Parameters
    ----------
    slope
        Calibration slope: coefficient of logit(p) in a logistic regression of the outcome on
        logit(p); 1 is ideal, < 1 means too extreme predictions (overfitting).
    intercept
        Calibration-in-the-large: intercept with logit(p) as offset; 0 is ideal, > 0 means
        risks predicted too low on average.
    brier
        Mean squared difference between probability and outcome (0 is perfect).
    curve_predicted, curve_observed, curve_count
        Reliability curve over quantile bins: mean prediction, observed event fraction and
        number of cases per bin.
    """

    slope: float
    intercept: float
    brier: float
    curve_predicted: tuple[float, ...]
    curve_observed: tuple[float, ...]
    curve_count: tuple[int, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionCurve:
    """Net benefit over threshold probabilities (Vickers & Elkin 2006).

    Parameters
    ----------
    thresholds
        Threshold probabilities p_t.
    model, treat_all
        Net benefit of acting on the model's prediction >= p_t, and of acting on everyone;
        acting on no one has net benefit 0.
    """

    thresholds: tuple[float, ...]
    model: tuple[float, ...]
    treat_all: tuple[float, ...]


def auc_score(
    y: npt.ArrayLike, scores: npt.ArrayLike, classes: Sequence[object] | None = None
) -> float:
    """ROC AUC: binary (``scores`` of the positive class) or macro one-vs-rest (a column each).

    Parameters
    ----------
    y
        True labels (n,); binary labels are 0/1.
    scores
        (n,) for binary, (n, n_classes) probabilities in ``classes`` order otherwise.
    classes
        Class labels in the column order of ``scores`` (multi-class only).
    """
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim == 1:
        return float(roc_auc_score(np.asarray(y), s))
    return float(
        roc_auc_score(
            np.asarray(y), s, multi_class="ovr", average="macro", labels=list(classes or [])
        )
    )


def bootstrap_ci(
    metric: Callable[[npt.NDArray[np.intp]], float],
    groups: npt.ArrayLike,
    *,
    n_boot: int,
    rng: np.random.Generator,
) -> Estimate:
    """Percentile 95 % CI of ``metric`` by resampling groups (patients) with replacement.

    Parameters
    ----------
    metric
        Function of row indices (into the out-of-fold arrays) returning the measure; it may
        raise ``ValueError`` for a resample it cannot score (one class only), which is skipped.
    groups
        Group (patient) of each row; whole groups are resampled, since lesions of one patient
        are not independent.
    n_boot
        Number of resamples.
    rng
        Random generator.

    Notes
    -----
    Cluster (patient-level) bootstrap of the pooled out-of-fold predictions: the interval
    reflects case sampling, not the variability of refitting the model (Efron & Tibshirani,
    An Introduction to the Bootstrap, 1993, ch. 13).
    """
    g = np.asarray(groups)
    names, inverse = np.unique(g, return_inverse=True)
    rows_of = [np.flatnonzero(inverse == i) for i in range(names.size)]
    all_rows = np.arange(g.size)
    values: list[float] = []
    for _ in range(n_boot):
        pick = rng.integers(0, names.size, names.size)
        rows = np.concatenate([rows_of[i] for i in pick])
        try:
            values.append(metric(rows))
        except ValueError:
            continue
    estimate = metric(all_rows)
    if not values:
        return Estimate(estimate=estimate, ci95=(float("nan"), float("nan")), n_boot=0)
    low, high = np.percentile(values, [2.5, 97.5])
    return Estimate(estimate=estimate, ci95=(float(low), float(high)), n_boot=len(values))


def _logit(p: FloatArray) -> FloatArray:
    q = np.clip(p, PROB_CLIP, 1.0 - PROB_CLIP)
    return np.asarray(np.log(q / (1.0 - q)), dtype=np.float64)


def _logistic_fit(y: FloatArray, x: FloatArray | None, offset: FloatArray) -> tuple[float, float]:
    """Unpenalised logistic regression y ~ a + b x + offset by Newton-Raphson; (a, b)."""
    design = np.ones((y.size, 1)) if x is None else np.column_stack([np.ones(y.size), x])
    beta = np.zeros(design.shape[1])
    for _ in range(_NEWTON_ITER):
        eta = design @ beta + offset
        p = 1.0 / (1.0 + np.exp(-eta))
        w = np.maximum(p * (1.0 - p), 1e-12)
        step = np.linalg.lstsq(design.T @ (design * w[:, None]), design.T @ (y - p), rcond=None)[0]
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            break
    return float(beta[0]), float(beta[1]) if beta.size > 1 else float("nan")


def calibration(y: npt.ArrayLike, p: npt.ArrayLike, *, n_bins: int = 10) -> Calibration:
    """Calibration slope, intercept, Brier score and reliability curve of probabilities.

    Parameters
    ----------
    y
        Outcomes (n,), 0/1.
    p
        Predicted probabilities of outcome 1 (n,).
    n_bins
        Quantile bins of the reliability curve (fewer when predictions tie).

    Notes
    -----
    Van Calster B et al. Calibration: the Achilles heel of predictive analytics. BMC Med
    2019;17:230, doi:10.1186/s12916-019-1466-7 (slope, intercept with logit(p) as offset).
    """
    yy = np.asarray(y, dtype=np.float64)
    pp = np.asarray(p, dtype=np.float64)
    lp = _logit(pp)
    _, slope = _logistic_fit(yy, lp, np.zeros_like(lp))
    intercept, _ = _logistic_fit(yy, None, lp)
    edges = np.unique(np.quantile(pp, np.linspace(0.0, 1.0, n_bins + 1)))
    which = np.clip(np.searchsorted(edges, pp, side="right") - 1, 0, max(edges.size - 2, 0))
    pred, obs, count = [], [], []
    for b in np.unique(which):
        sel = which == b
        pred.append(float(pp[sel].mean()))
        obs.append(float(yy[sel].mean()))
        count.append(int(sel.sum()))
    return Calibration(
        slope=slope,
        intercept=intercept,
        brier=float(np.mean((pp - yy) ** 2)),
        curve_predicted=tuple(pred),
        curve_observed=tuple(obs),
        curve_count=tuple(count),
    )


def regression_calibration(y: npt.ArrayLike, predicted: npt.ArrayLike) -> tuple[float, float]:
    """(slope, intercept) of the least-squares line of observed on predicted values.

    A slope of 1 and intercept of 0 are ideal; a slope < 1 means predictions spread too far.
    """
    yy = np.asarray(y, dtype=np.float64)
    pp = np.asarray(predicted, dtype=np.float64)
    if np.ptp(pp) == 0:
        return float("nan"), float(np.mean(yy - pp))
    slope, intercept = np.polyfit(pp, yy, 1)
    return float(slope), float(intercept)


def decision_curve(
    y: npt.ArrayLike, p: npt.ArrayLike, *, thresholds: npt.ArrayLike | None = None
) -> DecisionCurve:
    """Net benefit of the model, of treating all and of treating none.

    Notes
    -----
    NB(p_t) = TP/n - FP/n * p_t / (1 - p_t). Vickers AJ, Elkin EB. Decision curve analysis.
    Med Decis Making 2006;26:565-74, doi:10.1177/0272989X06295361.
    """
    yy = np.asarray(y, dtype=np.float64)
    pp = np.asarray(p, dtype=np.float64)
    t = np.arange(0.01, 1.0, 0.01) if thresholds is None else np.asarray(thresholds, float)
    n = yy.size
    prevalence = yy.mean()
    odds = t / (1.0 - t)
    act = pp[None, :] >= t[:, None]
    tp = (act & (yy[None, :] == 1)).sum(axis=1) / n
    fp = (act & (yy[None, :] == 0)).sum(axis=1) / n
    return DecisionCurve(
        thresholds=tuple(float(v) for v in t),
        model=tuple(float(v) for v in tp - fp * odds),
        treat_all=tuple(float(v) for v in prevalence - (1.0 - prevalence) * odds),
    )


def mae_r2(y: FloatArray, predicted: FloatArray) -> tuple[float, float]:
    """Mean absolute error and R² of numeric predictions."""
    return float(mean_absolute_error(y, predicted)), float(r2_score(y, predicted))


def grade_confusion(
    true_grade: npt.ArrayLike, predicted_grade: npt.ArrayLike, n_grades: int
) -> npt.NDArray[np.int64]:
    """Confusion matrix of ordinal grades coded 0 … ``n_grades - 1``.

    Returns
    -------
    numpy.ndarray
        (n_grades, n_grades) counts, int64: row = true grade, column = predicted grade.

    Examples
    --------
    >>> grade_confusion([0, 1, 2, 2], [0, 2, 2, 1], 3).tolist()
    [[1, 0, 0], [0, 0, 1], [0, 1, 1]]
    """
    t = np.asarray(true_grade, dtype=np.int64)
    q = np.asarray(predicted_grade, dtype=np.int64)
    if t.shape != q.shape or np.any((t < 0) | (t >= n_grades) | (q < 0) | (q >= n_grades)):
        raise ValueError(f"Grades must be two equal-length arrays of codes 0..{n_grades - 1}.")
    out = np.zeros((n_grades, n_grades), dtype=np.int64)
    np.add.at(out, (t, q), 1)
    return out


def weighted_kappa(confusion: npt.ArrayLike) -> float:
    """Cohen's kappa with linear weights of an ordinal confusion matrix.

    Parameters
    ----------
    confusion
        (k, k) counts, row = true grade, column = predicted grade.

    Raises
    ------
    ValueError
        If the chance-expected disagreement is 0 (every case in one grade on both sides):
        kappa is undefined there (a bootstrap resample like that is skipped).

    Notes
    -----
    kappa_w = 1 - sum(w * O) / sum(w * E), with w_ij = |i - j| / (k - 1), O the observed
    proportions and E the product of the marginal proportions (Cohen, Psychol Bull
    1968;70:213-220). Equals scikit-learn's ``cohen_kappa_score(..., weights="linear")``.

    Examples
    --------
    By hand: 7 cases one grade off (weight 1/2) of 30 give sum(w O) = 3.5 / 30; the
    marginals (12, 10, 8) and (11, 13, 6) give sum(w E) = 375 / 900; 1 - 0.28 = 0.72.

    >>> round(weighted_kappa([[10, 2, 0], [1, 8, 1], [0, 3, 5]]), 4)
    0.72
    """
    counts = np.asarray(confusion, dtype=np.float64)
    k = counts.shape[0]
    observed = counts / counts.sum()
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0))
    index = np.arange(k)
    weights = np.abs(index[:, None] - index[None, :]) / (k - 1)
    chance = float((weights * expected).sum())
    if chance <= 0.0:
        raise ValueError("Weighted kappa is undefined: every case is in one grade.")
    return 1.0 - float((weights * observed).sum()) / chance
