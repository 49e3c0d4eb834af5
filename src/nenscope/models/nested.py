"""Nested cross-validation with patient grouping, inner-loop tuning and feature selection.

The outer loop estimates performance; inside each outer training fold a grid search over
inner folds chooses the learner, its regularisation and the feature selection. Every
data-dependent step (imputation, ComBat, filters, scaling, selection) is part of the pipeline
the grid search refits per fold, so no validation case ever informs the model that predicts it.
Rows of one group (patient) always fall in the same fold, outer and inner.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.base import clone
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV, GroupKFold, StratifiedGroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from nenscope.models.errors import ModelInputError
from nenscope.models.steps import (
    ComBatHarmoniser,
    CorrelationPruner,
    L1Selector,
    MRMRSelector,
    VarianceFilter,
)

__all__ = [
    "Learner",
    "NestedResult",
    "Task",
    "ValidationSettings",
    "build_search",
    "config_text",
    "fit_final",
    "naive_cv_predictions",
    "nested_cv",
    "outer_splits",
    "permuted_target",
    "selected_features",
]

FloatArray = npt.NDArray[np.float64]


class Task(StrEnum):
    """What the model predicts."""

    CLASSIFICATION = "classification"
    REGRESSION = "regression"


class Learner(StrEnum):
    """Learners the inner loop chooses from."""

    LOGISTIC = "lr"
    RANDOM_FOREST = "rf"
    GRADIENT_BOOSTING = "gb"


@dataclass(frozen=True, slots=True, kw_only=True)
class ValidationSettings:
    """Settings of the nested cross-validation (CLI defaults; tests use smaller ones).

    Parameters
    ----------
    learners
        Learners in the inner grid (logistic/ridge regression, random forest, gradient boosting).
    outer_folds, inner_folds
        Folds of the outer (estimate) and inner (tuning, selection) loops.
    mrmr_k
        Feature counts mRMR may choose in the inner loop.
    l1_c
        Inverse L1 penalties the LASSO / L1-logistic selection may choose.
    correlation_threshold
        |Spearman rho| above which one feature of a pair is pruned (inside the folds).
    harmonise
        ComBat across batches inside each training fold.
    n_trees
        Trees of the random forest; boosting iterations of gradient boosting.
    seed
        Seed of every random choice (fold assignment, forests, bootstrap, permutations).
    n_jobs
        Parallel inner-grid fits (the machine may be shared: default 1).
    """

    learners: tuple[Learner, ...] = (
        Learner.LOGISTIC,
        Learner.RANDOM_FOREST,
        Learner.GRADIENT_BOOSTING,
    )
    outer_folds: int = 5
    inner_folds: int = 3
    mrmr_k: tuple[int, ...] = (5, 10)
    l1_c: tuple[float, ...] = (0.05, 0.5)
    correlation_threshold: float = 0.9
    harmonise: bool = False
    n_trees: int = 100
    seed: int = 0
    n_jobs: int = 1

    def __post_init__(self) -> None:
        if self.outer_folds < 2 or self.inner_folds < 2:
            raise ModelInputError(
                f"Nested CV needs at least 2 outer and 2 inner folds, not {self.outer_folds} "
                f"and {self.inner_folds}."
            )
        if not self.learners:
            raise ModelInputError("Choose at least one learner (lr, rf, gb).")


@dataclass(frozen=True, slots=True, kw_only=True)
class NestedResult:
    """Out-of-fold predictions of a nested cross-validation.

    Parameters
    ----------
    predictions
        Out-of-fold prediction per row: (n, n_classes) probabilities in ``classes`` order, or
        (n,) numeric predictions.
    fold
        Outer fold (0-based) in which each row was a validation case.
    chosen
        Per outer fold, the configuration the inner loop chose (text).
    selected
        Per outer fold, the names of the features the chosen model used.
    classes
        Class labels (classification), empty for regression.
    seconds
        Wall-clock time of the whole nested CV.
    """

    predictions: FloatArray
    fold: npt.NDArray[np.intp]
    chosen: tuple[str, ...]
    selected: tuple[tuple[str, ...], ...]
    classes: tuple[Any, ...] = ()
    seconds: float = field(default=0.0)


def _splitter(task: Task, n_splits: int, seed: int) -> StratifiedGroupKFold | GroupKFold:
    if task is Task.CLASSIFICATION:
        return StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return GroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)


def outer_splits(
    y: npt.ArrayLike, groups: npt.ArrayLike, *, task: Task, n_splits: int, seed: int
) -> list[tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]]:
    """(train, test) row indices of the outer folds; a group never spans two folds.

    Raises
    ------
    ModelInputError
        Fewer groups than folds, or (classification) a class with fewer groups than folds.
    """
    yy = np.asarray(y)
    gg = np.asarray(groups)
    n_groups = np.unique(gg).size
    if n_groups < n_splits:
        raise ModelInputError(
            f"{n_splits}-fold cross-validation needs at least {n_splits} patients (groups); "
            f"the table has {n_groups}. Use fewer folds or more cases."
        )
    if task is Task.CLASSIFICATION:
        for cls in np.unique(yy):
            k = np.unique(gg[yy == cls]).size
            if k < n_splits:
                raise ModelInputError(
                    f"Class {cls!r} occurs in only {k} patients (groups); {n_splits}-fold "
                    "stratified cross-validation needs at least one per fold. Merge classes "
                    "(--positive) or use fewer folds."
                )
    split = _splitter(task, n_splits, seed)
    x_dummy = np.zeros((yy.size, 1))
    return [(tr, te) for tr, te in split.split(x_dummy, yy, gg)]


def _learner_steps(
    learner: Learner, task: Task, settings: ValidationSettings
) -> list[dict[str, list[Any]]]:
    classification = task is Task.CLASSIFICATION
    seed = settings.seed
    mrmr = [MRMRSelector(k=k, classification=classification) for k in settings.mrmr_k]
    l1 = [L1Selector(c=c, classification=classification) for c in settings.l1_c]
    if learner is Learner.LOGISTIC:
        models: list[Any] = (
            [LogisticRegression(C=c, class_weight="balanced", max_iter=2000) for c in (0.1, 1.0)]
            if classification
            else [Ridge(alpha=a) for a in (1.0, 10.0)]
        )
        return [{"select": [*mrmr, *l1], "model": models}]
    if learner is Learner.RANDOM_FOREST:
        forest = (
            RandomForestClassifier(
                n_estimators=settings.n_trees,
                min_samples_leaf=3,
                class_weight="balanced_subsample",
                random_state=seed,
                n_jobs=1,
            )
            if classification
            else RandomForestRegressor(
                n_estimators=settings.n_trees, min_samples_leaf=3, random_state=seed, n_jobs=1
            )
        )
        return [{"select": [mrmr[-1], "passthrough"], "model": [forest]}]
    boost = (
        HistGradientBoostingClassifier(
            max_iter=settings.n_trees // 2,
            learning_rate=0.1,
            max_depth=3,
            class_weight="balanced",
            early_stopping=False,
            random_state=seed,
        )
        if classification
        else HistGradientBoostingRegressor(
            max_iter=settings.n_trees // 2,
            learning_rate=0.1,
            max_depth=3,
            early_stopping=False,
            random_state=seed,
        )
    )
    return [{"select": [mrmr[-1], "passthrough"], "model": [boost]}]


def build_search(task: Task, settings: ValidationSettings, *, n_classes: int = 2) -> GridSearchCV:
    """Build the inner-loop grid search over the whole modelling pipeline (unfitted).

    The pipeline is: median imputation → ComBat (when harmonising; the batch code is the last
    column) → constant-feature filter → standardisation → correlation pruning → selection
    (mRMR or L1, or none for the tree ensembles) → learner. Class imbalance is handled by
    class weights (balanced) in every classifier.
    """
    steps: list[tuple[str, Any]] = [("impute", SimpleImputer(strategy="median"))]
    if settings.harmonise:
        steps.append(("combat", ComBatHarmoniser(enabled=True)))
    steps += [
        ("variance", VarianceFilter()),
        ("scale", StandardScaler()),
        ("prune", CorrelationPruner(threshold=settings.correlation_threshold)),
        ("select", "passthrough"),
        ("model", LogisticRegression()),
    ]
    grid: list[dict[str, list[Any]]] = []
    for learner in settings.learners:
        grid.extend(_learner_steps(learner, task, settings))
    scoring = "neg_mean_absolute_error"
    if task is Task.CLASSIFICATION:
        scoring = "roc_auc" if n_classes <= 2 else "roc_auc_ovr"
    return GridSearchCV(
        Pipeline(steps),
        grid,
        scoring=scoring,
        cv=_splitter(task, settings.inner_folds, settings.seed),
        n_jobs=settings.n_jobs,
        refit=True,
        error_score="raise",
    )


def selected_features(pipeline: Pipeline, names: Sequence[str]) -> tuple[str, ...]:
    """Names of the input features a fitted pipeline's learner uses (after all filters)."""
    current = np.asarray(list(names))
    for _, step in pipeline.steps[1:-1]:
        support = getattr(step, "support_", None)
        if support is not None:
            current = current[support]
    return tuple(str(v) for v in current)


def config_text(params: dict[str, Any]) -> str:
    """Describe one grid configuration (learner, its penalty, the selection) in words."""
    model = params.get("model")
    select = params.get("select")
    if isinstance(select, MRMRSelector):
        sel = f"mRMR k={select.k}"
    elif isinstance(select, L1Selector):
        sel = f"L1 selection C={select.c}"
    else:
        sel = "all features"
    return f"{type(model).__name__}({_short(model)}) on {sel}"


def _short(model: Any) -> str:
    keys = ("C", "alpha", "n_estimators", "max_iter", "learning_rate")
    params = model.get_params()
    return ", ".join(f"{k}={params[k]}" for k in keys if k in params)


def _inputs(
    x: FloatArray, batch: npt.NDArray[np.intp] | None, settings: ValidationSettings
) -> FloatArray:
    if not settings.harmonise:
        return x
    if batch is None:
        raise ModelInputError("Harmonisation needs a batch column (--batch COLUMN).")
    return np.column_stack([x, batch.astype(np.float64)])


def nested_cv(
    x: FloatArray,
    y: npt.NDArray[Any],
    groups: npt.ArrayLike,
    *,
    task: Task,
    feature_names: Sequence[str],
    settings: ValidationSettings,
    batch: npt.NDArray[np.intp] | None = None,
) -> NestedResult:
    """Run the nested cross-validation and return the out-of-fold predictions.

    Parameters
    ----------
    x
        Features (n_cases, n_features); NaN where missing (imputed inside the folds).
    y
        Target (n_cases,): class labels or numbers.
    groups
        Patient of each row; rows of one patient never go to different folds.
    task
        Classification or regression.
    feature_names
        Column names of ``x``.
    settings
        Folds, grid and seed.
    batch
        Integer batch (scanner/site) code per row, needed when ``settings.harmonise``.

    Returns
    -------
    NestedResult
        Out-of-fold predictions and what the inner loop chose in each outer fold.
    """
    start = time.perf_counter()
    gg = np.asarray(groups)
    data = _inputs(np.asarray(x, dtype=np.float64), batch, settings)
    classes = tuple(np.unique(y).tolist()) if task is Task.CLASSIFICATION else ()
    shape = (y.size, len(classes)) if task is Task.CLASSIFICATION else (y.size,)
    predictions: FloatArray = np.full(shape, np.nan)
    fold = np.full(y.size, -1, dtype=np.intp)
    chosen: list[str] = []
    selected: list[tuple[str, ...]] = []
    splits = outer_splits(y, gg, task=task, n_splits=settings.outer_folds, seed=settings.seed)
    # Single-threaded BLAS/OpenMP inside each fit: the machine may be shared, and parallelism,
    # when asked for, comes from n_jobs.
    with threadpool_limits(limits=1):
        for i, (train, test) in enumerate(splits):
            search = build_search(task, settings, n_classes=len(classes))
            search.fit(data[train], y[train], groups=gg[train])
            best = search.best_estimator_
            if task is Task.CLASSIFICATION:
                predictions[test] = best.predict_proba(data[test])
            else:
                predictions[test] = best.predict(data[test])
            fold[test] = i
            chosen.append(config_text(search.best_params_))
            selected.append(selected_features(best, feature_names))
    return NestedResult(
        predictions=predictions,
        fold=fold,
        chosen=tuple(chosen),
        selected=tuple(selected),
        classes=classes,
        seconds=time.perf_counter() - start,
    )


def fit_final(
    x: FloatArray,
    y: npt.NDArray[Any],
    groups: npt.ArrayLike,
    *,
    task: Task,
    settings: ValidationSettings,
    batch: npt.NDArray[np.intp] | None = None,
) -> GridSearchCV:
    """Fit the deployed model: the same inner search, on every case.

    Its performance is what :func:`nested_cv` estimated for this whole procedure.
    """
    data = _inputs(np.asarray(x, dtype=np.float64), batch, settings)
    n_classes = np.unique(y).size if task is Task.CLASSIFICATION else 0
    search = build_search(task, settings, n_classes=n_classes)
    with threadpool_limits(limits=1):
        search.fit(data, y, groups=np.asarray(groups))
    return search


def permuted_target(
    y: npt.NDArray[Any], groups: npt.ArrayLike, rng: np.random.Generator
) -> npt.NDArray[Any]:
    """Permute the target at random, keeping patient-level labels patient-level.

    When every patient's rows share one target value (grade of a patient), whole patients'
    labels are permuted; otherwise rows are.
    """
    gg = np.asarray(groups)
    names, first, inverse = np.unique(gg, return_index=True, return_inverse=True)
    per_group = y[first]
    if np.array_equal(per_group[inverse], y):
        return per_group[rng.permutation(names.size)][inverse]
    return y[rng.permutation(y.size)]


def naive_cv_predictions(
    x: FloatArray,
    y: npt.NDArray[Any],
    *,
    k: int,
    n_splits: int,
    seed: int,
) -> FloatArray:
    """Run a deliberately WRONG pipeline, to show optimism: select, then cross-validate.

    The ``k`` features with the largest F statistic are chosen on ALL cases (labels of the
    validation folds included), then a logistic regression is cross-validated on them without
    grouping. Never use this for a real estimate; ``model train`` never does.

    Returns
    -------
    numpy.ndarray
        Out-of-fold probability of the second class (binary targets), (n_cases,).
    """
    from sklearn.feature_selection import SelectKBest, f_classif
    from sklearn.model_selection import StratifiedKFold

    data = SimpleImputer(strategy="median").fit_transform(np.asarray(x, dtype=np.float64))
    chosen = SelectKBest(f_classif, k=min(k, data.shape[1])).fit_transform(data, y)
    out = np.full(y.size, np.nan)
    model = Pipeline([("scale", StandardScaler()), ("lr", LogisticRegression(max_iter=2000))])
    for train, test in StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(chosen, y):
        fitted = clone(model).fit(chosen[train], y[train])
        out[test] = fitted.predict_proba(chosen[test])[:, 1]
    return out
