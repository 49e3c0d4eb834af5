"""Train a model with nested cross-validation and write it with its validation and card.

``train_model`` computes (no files); ``write_model`` writes ``model.joblib`` (the fitted
pipeline), ``model.json`` (what it expects, its training ranges, its validation),
``predictions_oof.csv`` (the out-of-fold predictions the estimates come from) and ``card.html``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from nenscope import __version__
from nenscope.models.errors import ModelInputError
from nenscope.models.metrics import (
    auc_score,
    bootstrap_ci,
    calibration,
    decision_curve,
    grade_confusion,
    mae_r2,
    regression_calibration,
    weighted_kappa,
)
from nenscope.models.nested import (
    NestedResult,
    Task,
    ValidationSettings,
    config_text,
    fit_final,
    nested_cv,
    permuted_target,
    selected_features,
)
from nenscope.models.table import KI67_G2_MIN, KI67_G3_ABOVE, PreparedTable, ki67_to_grade

__all__ = ["TrainSettings", "TrainedModel", "train_model", "write_model"]

MODEL_FILE = "model.joblib"
META_FILE = "model.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainSettings:
    """Validation and uncertainty settings of ``model train``.

    Parameters
    ----------
    validation
        Nested cross-validation settings.
    n_boot
        Bootstrap resamples (patients) for the 95 % CIs.
    permutations
        Maximum number of label permutations for the permutation test (each one reruns the
        whole nested CV).
    permutation_budget_s
        Wall-clock budget for the permutations; the test stops when it is spent and reports
        how many permutations it ran (the smallest p it can give is 1 / (done + 1)).
    ki67_agreement
        The numeric target is a Ki-67 index (%): also report how well the predicted grades
        (G1 < 3 %, G2 3-20 %, G3 > 20 %) agree with the true ones.
    """

    validation: ValidationSettings = field(default_factory=ValidationSettings)
    n_boot: int = 1000
    permutations: int = 100
    permutation_budget_s: float = 180.0
    ki67_agreement: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainedModel:
    """A fitted model, its nested-CV validation and the data description for its card."""

    search: Any
    table: PreparedTable
    nested: NestedResult
    summary: Mapping[str, Any]
    permutation_null: tuple[float, ...]
    settings: TrainSettings
    target: str
    training_ranges: Mapping[str, tuple[float, float]]


def _positive_scores(nested: NestedResult) -> npt.NDArray[np.float64]:
    return nested.predictions[:, 1] if len(nested.classes) == 2 else nested.predictions


def _score(task: Task, y: npt.NDArray[Any], nested: NestedResult) -> float:
    """Permutation-test statistic: AUC (higher is better) or -MAE (higher is better)."""
    if task is Task.CLASSIFICATION:
        return auc_score(y, _positive_scores(nested), nested.classes)
    return -mae_r2(y, nested.predictions)[0]


def _permutation_test(
    table: PreparedTable, observed: float, settings: TrainSettings, run_s: float
) -> tuple[float | None, tuple[float, ...], str]:
    """Permutation p-value, the null statistics, and a note on how the test was bounded.

    A permutation is started only when the time spent so far plus the expected duration of
    one run (the longest seen, at first the observed nested CV's ``run_s``) fits in the
    budget, so the budget bounds the whole test rather than the start of its last run.
    """
    rng = np.random.default_rng(settings.validation.seed + 1)
    null: list[float] = []
    start = time.perf_counter()
    expected = run_s
    for _ in range(settings.permutations):
        if time.perf_counter() - start + expected > settings.permutation_budget_s:
            break
        y_perm = permuted_target(table.y, table.groups, rng)
        t0 = time.perf_counter()
        try:
            result = nested_cv(
                table.x,
                y_perm,
                table.groups,
                task=table.task,
                feature_names=table.feature_names,
                settings=settings.validation,
                batch=table.batch,
            )
        except ModelInputError:
            continue  # a permutation that leaves a class too rare for the folds
        expected = max(expected, time.perf_counter() - t0)
        null.append(_score(table.task, y_perm, result))
    if not null:
        note = (
            "not run: one permutation reruns the whole nested CV (about "
            f"{expected:.0f} s here), more than the {settings.permutation_budget_s:.0f} s "
            "budget; raise --permutation-budget-s"
            if settings.permutations
            else "not run (--permutations 0)"
        )
        return None, (), note
    p = (1 + sum(v >= observed for v in null)) / (1 + len(null))
    note = (
        f"{len(null)} permutation(s) in {time.perf_counter() - start:.0f} s "
        f"(budget {settings.permutation_budget_s:.0f} s); smallest possible p "
        f"{1 / (1 + len(null)):.3f}"
    )
    return float(p), tuple(null), note


def _classification_summary(
    table: PreparedTable, nested: NestedResult, settings: TrainSettings
) -> dict[str, Any]:
    rng = np.random.default_rng(settings.validation.seed + 2)
    y = table.y
    scores = _positive_scores(nested)
    classes = nested.classes

    def auc_of(rows: npt.NDArray[np.intp]) -> float:
        if np.unique(y[rows]).size < len(classes):
            raise ValueError("a resample without every class")
        return auc_score(y[rows], scores[rows], classes)

    auc = bootstrap_ci(auc_of, table.groups, n_boot=settings.n_boot, rng=rng)
    out: dict[str, Any] = {
        "auc": {"estimate": auc.estimate, "ci95": list(auc.ci95), "n_boot": auc.n_boot},
    }
    if len(classes) == 2:
        outcome = (y == classes[1]).astype(np.float64)
        cal = calibration(outcome, scores)
        dca = decision_curve(outcome, scores)
        out["calibration"] = _calibration_dict(cal)
        out["decision_curve"] = {
            "thresholds": dca.thresholds,
            "model": dca.model,
            "treat_all": dca.treat_all,
            "treat_none": 0.0,
        }
    else:
        per_class = {}
        for i, cls in enumerate(classes):
            per_class[str(cls)] = _calibration_dict(
                calibration((y == cls).astype(np.float64), nested.predictions[:, i])
            )
        onehot = (y[:, None] == np.asarray(classes)[None, :]).astype(np.float64)
        brier = float(np.mean(np.sum((nested.predictions - onehot) ** 2, axis=1)))
        out["calibration"] = {"brier_multiclass": brier, "per_class": per_class}
    return out


def _calibration_dict(cal: Any) -> dict[str, Any]:
    return {
        "slope": cal.slope,
        "intercept": cal.intercept,
        "brier": cal.brier,
        "curve": {
            "predicted": cal.curve_predicted,
            "observed": cal.curve_observed,
            "count": cal.curve_count,
        },
    }


def _regression_summary(
    table: PreparedTable, nested: NestedResult, settings: TrainSettings
) -> dict[str, Any]:
    rng_mae = np.random.default_rng(settings.validation.seed + 2)
    rng_r2 = np.random.default_rng(settings.validation.seed + 3)
    y = table.y.astype(np.float64)
    pred = nested.predictions
    mae = bootstrap_ci(
        lambda r: mae_r2(y[r], pred[r])[0], table.groups, n_boot=settings.n_boot, rng=rng_mae
    )
    r2 = bootstrap_ci(
        lambda r: mae_r2(y[r], pred[r])[1], table.groups, n_boot=settings.n_boot, rng=rng_r2
    )
    slope, intercept = regression_calibration(y, pred)
    return {
        "mae": {"estimate": mae.estimate, "ci95": list(mae.ci95), "n_boot": mae.n_boot},
        "r2": {"estimate": r2.estimate, "ci95": list(r2.ci95), "n_boot": r2.n_boot},
        "calibration": {"slope": slope, "intercept": intercept},
    }


GRADES = ("G1", "G2", "G3")
"""WHO grades of a Ki-67 index, in order (codes 0, 1, 2 of the agreement measures)."""


def _check_ki67_target(table: PreparedTable, target: str) -> None:
    """Refuse grade agreement before the (long) validation when the target is not Ki-67 %."""
    if table.task is not Task.REGRESSION:
        raise ModelInputError(
            f"--ki67-agreement is for a numeric Ki-67 target (regression); '{target}' is a "
            "class target here: give --task regression if it holds few distinct values (with "
            "--ki67-grades the grades are the target already)."
        )
    y = np.asarray(table.y, dtype=np.float64)
    if np.any(~np.isfinite(y) | (y < 0) | (y > 100)):
        raise ModelInputError(
            f"--ki67-agreement: target '{target}' holds values outside 0-100 "
            f"(range {np.nanmin(y):g} to {np.nanmax(y):g}); give the Ki-67 index in %."
        )


def _grade_codes(values: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    grades = ki67_to_grade(values)
    return np.searchsorted(np.asarray(GRADES), grades).astype(np.int64)


def _grade_agreement(
    table: PreparedTable, nested: NestedResult, settings: TrainSettings
) -> dict[str, Any]:
    """Grade agreement of the out-of-fold Ki-67 predictions (confusion, accuracy, kappa).

    A predicted index outside 0-100 % (a linear model may give one) is clipped to that range
    before grading: it is still a prediction of G1 or G3.
    """
    true = _grade_codes(table.y.astype(np.float64))
    pred = _grade_codes(np.clip(nested.predictions.astype(np.float64), 0.0, 100.0))
    k = len(GRADES)

    def accuracy(rows: npt.NDArray[np.intp]) -> float:
        return float(np.mean(true[rows] == pred[rows]))

    def kappa(rows: npt.NDArray[np.intp]) -> float:
        return weighted_kappa(grade_confusion(true[rows], pred[rows], k))

    seed = settings.validation.seed
    acc = bootstrap_ci(
        accuracy, table.groups, n_boot=settings.n_boot, rng=np.random.default_rng(seed + 4)
    )
    kap = bootstrap_ci(
        kappa, table.groups, n_boot=settings.n_boot, rng=np.random.default_rng(seed + 5)
    )
    return {
        "grades": list(GRADES),
        "cutoffs_percent": [KI67_G2_MIN, KI67_G3_ABOVE],
        "confusion": grade_confusion(true, pred, k).tolist(),
        "accuracy": {"estimate": acc.estimate, "ci95": list(acc.ci95), "n_boot": acc.n_boot},
        "kappa_linear": {
            "estimate": kap.estimate,
            "ci95": list(kap.ci95),
            "n_boot": kap.n_boot,
        },
    }


def _selection_frequency(nested: NestedResult) -> dict[str, float]:
    counts: dict[str, int] = {}
    for names in nested.selected:
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    k = len(nested.selected)
    return {n: c / k for n, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))}


def train_model(table: PreparedTable, target: str, settings: TrainSettings) -> TrainedModel:
    """Validate the modelling procedure by nested CV, then fit it on every case.

    Parameters
    ----------
    table
        Prepared features, target, groups (and batches).
    target
        Name of the target column (for the card and the JSON).
    settings
        Validation, bootstrap and permutation settings.

    Returns
    -------
    TrainedModel
        The final model and its honest (nested, out-of-fold) performance.
    """
    start = time.perf_counter()
    val = settings.validation
    if settings.ki67_agreement:
        _check_ki67_target(table, target)
    nested = nested_cv(
        table.x,
        table.y,
        table.groups,
        task=table.task,
        feature_names=table.feature_names,
        settings=val,
        batch=table.batch,
    )
    if table.task is Task.CLASSIFICATION:
        perf = _classification_summary(table, nested, settings)
    else:
        perf = _regression_summary(table, nested, settings)
    if settings.ki67_agreement:
        perf["grade_agreement"] = _grade_agreement(table, nested, settings)
    observed = _score(table.task, table.y, nested)
    p_value, null, p_note = _permutation_test(table, observed, settings, nested.seconds)
    search = fit_final(
        table.x, table.y, table.groups, task=table.task, settings=val, batch=table.batch
    )
    final = search.best_estimator_
    summary: dict[str, Any] = {
        "validation": "nested-cv",
        "n": int(table.y.size),
        "n_groups": int(np.unique(table.groups).size),
        "task": table.task.value,
        "target": target,
        "classes": [str(c) for c in nested.classes],
        "classes_text": table.classes_text,
        **perf,
        "permutation_p": p_value,
        "permutations": len(null),
        "permutation_note": p_note,
        "outer_folds": val.outer_folds,
        "inner_folds": val.inner_folds,
        "chosen_per_fold": list(nested.chosen),
        "selection_frequency": _selection_frequency(nested),
        "final_model": {
            "configuration": config_text(search.best_params_),
            "features": list(selected_features(final, table.feature_names)),
        },
        "harmonised": val.harmonise,
        "seconds": time.perf_counter() - start,
    }
    if table.task is Task.CLASSIFICATION:
        counts = {str(c): int(np.sum(table.y == c)) for c in nested.classes}
        summary["class_counts"] = counts
    ranges = {
        name: (float(np.nanmin(table.x[:, i])), float(np.nanmax(table.x[:, i])))
        for i, name in enumerate(table.feature_names)
        if np.any(np.isfinite(table.x[:, i]))
    }
    return TrainedModel(
        search=search,
        table=table,
        nested=nested,
        summary=summary,
        permutation_null=null,
        settings=settings,
        target=target,
        training_ranges=ranges,
    )


def _oof_csv(model: TrainedModel) -> str:
    nested = model.nested
    lines = []
    if model.table.task is Task.CLASSIFICATION:
        header = ["row", "group", "fold", "target", *[f"p_{c}" for c in nested.classes]]
        lines.append(",".join(header))
        for i in range(model.table.y.size):
            probs = [repr(float(v)) for v in nested.predictions[i]]
            lines.append(
                ",".join(
                    [
                        str(i),
                        model.table.groups[i],
                        str(nested.fold[i]),
                        str(model.table.y[i]),
                        *probs,
                    ]
                )
            )
    else:
        lines.append("row,group,fold,target,predicted")
        for i in range(model.table.y.size):
            lines.append(
                f"{i},{model.table.groups[i]},{nested.fold[i]},{model.table.y[i]!r},"
                f"{float(nested.predictions[i])!r}"
            )
    return "\n".join(lines) + "\n"


def write_model(out_dir: Path, model: TrainedModel) -> dict[str, Path]:
    """Write the model, its metadata, the out-of-fold predictions and the model card.

    ``model.joblib`` is a pickle: load it only from a source you trust (``model predict``
    checks its SHA-256 against ``model.json`` to catch a swapped or damaged file).
    """
    import joblib

    from nenscope.models.card import render_card

    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ModelInputError(f"Cannot create the output folder {out_dir}: {err}.") from err
    model_path = out_dir / MODEL_FILE
    joblib.dump(model.search.best_estimator_, model_path)
    digest = hashlib.sha256(model_path.read_bytes()).hexdigest()
    table = model.table
    meta = {
        "nenscope_version": __version__,
        "model_sha256": digest,
        "target": model.target,
        "task": table.task.value,
        "classes": [str(c) for c in model.nested.classes],
        "class_values": [_plain(c) for c in model.nested.classes],
        "features": list(table.feature_names),
        "training_ranges": {k: list(v) for k, v in model.training_ranges.items()},
        "batch_column": table.batch_column,
        "batch_names": list(table.batch_names),
        "harmonised": model.settings.validation.harmonise,
        "notes": list(table.notes),
        "summary": model.summary,
    }
    meta_path = out_dir / META_FILE
    meta_path.write_text(json.dumps(_jsonable(meta), indent=2) + "\n", encoding="utf-8")
    oof_path = out_dir / "predictions_oof.csv"
    oof_path.write_text(_oof_csv(model), encoding="utf-8")
    card_path = out_dir / "card.html"
    card_path.write_text(render_card(model), encoding="utf-8")
    return {"model": model_path, "meta": meta_path, "oof": oof_path, "card": card_path}


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
