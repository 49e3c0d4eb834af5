"""Reading a feature table (CSV or Parquet) into arrays for training or prediction.

The table has one row per case (a lesion or a patient). This module decides, once and
visibly, which columns are features, what the target and the groups are, and what was
dropped and why; everything it decides is written into the model card.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from nenscope.models.errors import ModelInputError
from nenscope.models.nested import Task

__all__ = [
    "CLASS_TARGET_MAX_VALUES",
    "KI67_G2_MIN",
    "KI67_G3_ABOVE",
    "METADATA_COLUMNS",
    "MISSING_MAX_FRACTION",
    "STABILITY_MIN_ICC",
    "PreparedTable",
    "TableSpec",
    "ki67_to_grade",
    "prepare_table",
    "read_table",
]

CLASS_TARGET_MAX_VALUES = 5
"""A numeric target with at most this many distinct values is a class target (DESIGN)."""

MISSING_MAX_FRACTION = 0.5
"""A feature missing in more than this fraction of cases is dropped (label-free, before CV)."""

STABILITY_MIN_ICC = 0.75
"""Features whose test-retest or perturbation ICC is below this are dropped ("good"
reliability from 0.75: Koo TK, Li MY, J Chiropr Med 2016;15:155-63)."""

KI67_G2_MIN = 3.0
"""Ki-67 index (%) from which a NET is G2 (WHO 2019/2022: G1 < 3 %, G2 3-20 %, G3 > 20 %)."""

KI67_G3_ABOVE = 20.0
"""Ki-67 index (%) above which a NET is G3."""

METADATA_COLUMNS = frozenset(
    {
        "study",
        "patient_id",
        "study_key",
        "lesion_id",
        "id",
        "status",
        "site",
        "centroid_x_mm",
        "centroid_y_mm",
        "centroid_z_mm",
    }
)
"""Columns of a ``cohort run`` lesion table that identify or locate a lesion: never features."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TableSpec:
    """How to read the table (the CLI options).

    Parameters
    ----------
    target
        Target column.
    task
        Classification or regression; None decides from the target (DESIGN).
    group
        Patient column; None makes every row its own patient (say so in the card).
    batch
        Scanner/site column (ComBat and out-of-distribution checks), or None.
    features
        Explicit feature columns; empty = every numeric column but the others named here and
        :data:`METADATA_COLUMNS`.
    exclude
        Columns never to use as features.
    positive
        Class labels merged into the positive class of a binary target (e.g. G2, G3).
    ki67_grades
        Map a numeric Ki-67 target (%) to G1/G2/G3 and classify.
    stability
        Per-feature ICC (from a test-retest or perturbation study) below which a feature is
        dropped; ``{feature: icc}``.
    """

    target: str
    task: Task | None = None
    group: str | None = None
    batch: str | None = None
    features: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    positive: tuple[str, ...] = ()
    ki67_grades: bool = False
    stability: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PreparedTable:
    """Arrays for the nested CV plus the record of what was decided.

    Parameters
    ----------
    x
        Features (n_cases, n_features), float64, NaN where missing.
    y
        Target (n_cases,): class labels (str or int) or float64.
    groups
        Patient of each case (str).
    batch
        Batch code per case (int) or None; ``batch_names[code]`` is the batch.
    feature_names
        Column names of ``x``.
    task
        Classification or regression.
    notes
        What was dropped or assumed, for the model card.
    missing
        Fraction of missing values per kept feature.
    """

    x: npt.NDArray[np.float64]
    y: npt.NDArray[Any]
    groups: npt.NDArray[np.str_]
    batch: npt.NDArray[np.intp] | None
    batch_names: tuple[str, ...]
    feature_names: tuple[str, ...]
    task: Task
    notes: tuple[str, ...]
    missing: tuple[float, ...]
    classes_text: str = ""
    batch_column: str | None = None


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV file or a Parquet file/folder (e.g. ``lesions.parquet`` of ``cohort run``)."""
    path = Path(path)
    if not path.exists():
        raise ModelInputError(f"Table {path} does not exist.")
    try:
        if path.is_dir() or path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if path.suffix.lower() in (".csv", ".txt"):
            return pd.read_csv(path)
    except (OSError, ValueError) as err:
        raise ModelInputError(f"Cannot read table {path}: {err}") from err
    raise ModelInputError(
        f"Table {path}: unknown format '{path.suffix}'. Expected .csv or .parquet "
        "(file or folder)."
    )


def ki67_to_grade(values: npt.ArrayLike) -> npt.NDArray[np.str_]:
    """WHO grade of each Ki-67 index (%): G1 < 3, G2 3-20, G3 > 20.

    Examples
    --------
    >>> ki67_to_grade([1.0, 3.0, 20.0, 20.5]).tolist()
    ['G1', 'G2', 'G2', 'G3']
    """
    v = np.asarray(values, dtype=np.float64)
    if np.any(~np.isfinite(v) | (v < 0) | (v > 100)):
        raise ModelInputError("Ki-67 values must be percentages between 0 and 100.")
    grades = np.where(v < KI67_G2_MIN, "G1", np.where(v <= KI67_G3_ABOVE, "G2", "G3"))
    return np.asarray(grades, dtype=np.str_)


def _need(frame: pd.DataFrame, column: str | None, what: str) -> None:
    if column is not None and column not in frame.columns:
        raise ModelInputError(
            f"The table has no {what} column '{column}'. "
            f"Columns: {', '.join(map(str, frame.columns))}."
        )


def _decide_task(target: pd.Series, spec: TableSpec) -> Task:
    if spec.ki67_grades or spec.positive:
        return Task.CLASSIFICATION
    if spec.task is not None:
        return spec.task
    numeric = pd.api.types.is_numeric_dtype(target)
    if not numeric or target.nunique() <= CLASS_TARGET_MAX_VALUES:
        return Task.CLASSIFICATION
    return Task.REGRESSION


def _target(frame: pd.DataFrame, spec: TableSpec, task: Task) -> tuple[npt.NDArray[Any], str]:
    col = frame[spec.target]
    if spec.ki67_grades:
        col = pd.Series(ki67_to_grade(col.to_numpy(dtype=np.float64)), index=col.index)
    if task is Task.REGRESSION:
        if not pd.api.types.is_numeric_dtype(col):
            raise ModelInputError(
                f"Regression needs a numeric target; '{spec.target}' holds text. Use "
                "--task classification."
            )
        return col.to_numpy(dtype=np.float64), ""
    labels = col.astype(str).to_numpy()
    if spec.positive:
        unknown = sorted(set(spec.positive) - set(labels.tolist()))
        if unknown:
            raise ModelInputError(
                f"--positive names {', '.join(unknown)}, which '{spec.target}' never holds "
                f"(values: {', '.join(sorted(set(labels.tolist())))})."
            )
        positive = np.isin(labels, list(spec.positive))
        negatives = sorted(set(labels[~positive].tolist()))
        text = f"1 = {'/'.join(spec.positive)}, 0 = {'/'.join(negatives)}"
        return positive.astype(np.int64), text
    values = sorted(set(labels.tolist()))
    if len(values) < 2:
        raise ModelInputError(f"Target '{spec.target}' has one value only ({values[0]}).")
    if len(values) == 2:
        return labels, f"positive class = {values[1]}"
    return labels, f"{len(values)} classes: {', '.join(values)}"


def _feature_columns(frame: pd.DataFrame, spec: TableSpec) -> tuple[list[str], list[str]]:
    taken = {spec.target, spec.group, spec.batch, *spec.exclude}
    if spec.features:
        missing = [c for c in spec.features if c not in frame.columns]
        if missing:
            raise ModelInputError(f"Feature column(s) {', '.join(missing)} not in the table.")
        return list(spec.features), []
    columns, ignored = [], []
    for name in frame.columns:
        if name in taken or name in METADATA_COLUMNS:
            continue
        if pd.api.types.is_numeric_dtype(frame[name]) and not pd.api.types.is_bool_dtype(
            frame[name]
        ):
            columns.append(str(name))
        else:
            ignored.append(str(name))
    return columns, ignored


def prepare_table(frame: pd.DataFrame, spec: TableSpec) -> PreparedTable:
    """Decide target, groups, batches and features of a table; record every decision.

    Raises
    ------
    ModelInputError
        A named column is missing, the target is unusable, or no feature is left.
    """
    for column, what in ((spec.target, "target"), (spec.group, "group"), (spec.batch, "batch")):
        _need(frame, column, what)
    notes: list[str] = []
    keep = frame[spec.target].notna()
    if not keep.all():
        notes.append(f"{int((~keep).sum())} row(s) without a target value were left out.")
    frame = frame.loc[keep].reset_index(drop=True)
    task = _decide_task(frame[spec.target], spec)
    y, classes_text = _target(frame, spec, task)
    if spec.group is None:
        groups = np.asarray([f"row{i}" for i in range(len(frame))], dtype=np.str_)
        notes.append(
            "No --group column: every row was treated as a separate patient. If rows are "
            "lesions, lesions of one patient may fall in different folds (optimistic estimate)."
        )
    else:
        if frame[spec.group].isna().any():
            raise ModelInputError(f"Group column '{spec.group}' has empty values.")
        groups = frame[spec.group].astype(str).to_numpy(dtype=np.str_)
    batch, batch_names = _batch(frame, spec)
    columns, ignored = _feature_columns(frame, spec)
    if ignored:
        notes.append(f"Non-numeric column(s) not used as features: {', '.join(ignored)}.")
    columns = _stable(columns, spec, notes)
    x = frame[columns].to_numpy(dtype=np.float64, na_value=np.nan) if columns else None
    if x is None:
        raise ModelInputError("No numeric feature column is left to train on.")
    x = np.where(np.isfinite(x), x, np.nan)
    missing = np.isnan(x).mean(axis=0)
    too_many = missing > MISSING_MAX_FRACTION
    if np.any(too_many):
        dropped = [c for c, t in zip(columns, too_many, strict=True) if t]
        notes.append(
            f"Feature(s) missing in more than {MISSING_MAX_FRACTION:.0%} of cases dropped: "
            f"{', '.join(dropped)}."
        )
        columns = [c for c, t in zip(columns, too_many, strict=True) if not t]
        x, missing = x[:, ~too_many], missing[~too_many]
    if not columns:
        raise ModelInputError("Every feature was dropped (missing values); nothing to train on.")
    return PreparedTable(
        x=x,
        y=y,
        groups=groups,
        batch=batch,
        batch_names=batch_names,
        feature_names=tuple(columns),
        task=task,
        notes=tuple(notes),
        missing=tuple(float(m) for m in missing),
        classes_text=classes_text,
        batch_column=spec.batch,
    )


def _batch(
    frame: pd.DataFrame, spec: TableSpec
) -> tuple[npt.NDArray[np.intp] | None, tuple[str, ...]]:
    if spec.batch is None:
        return None, ()
    if frame[spec.batch].isna().any():
        raise ModelInputError(f"Batch column '{spec.batch}' has empty values.")
    names, codes = np.unique(frame[spec.batch].astype(str).to_numpy(), return_inverse=True)
    return codes.astype(np.intp), tuple(str(n) for n in names)


def _stable(columns: Sequence[str], spec: TableSpec, notes: list[str]) -> list[str]:
    if not spec.stability:
        return list(columns)
    icc = dict(spec.stability)
    unknown = [c for c in columns if c not in icc]
    unstable = [c for c in columns if c in icc and icc[c] < STABILITY_MIN_ICC]
    if unstable:
        notes.append(
            f"{len(unstable)} feature(s) with ICC < {STABILITY_MIN_ICC} dropped (stability "
            f"table): {', '.join(unstable)}."
        )
    if unknown:
        notes.append(
            f"{len(unknown)} feature(s) have no ICC in the stability table and were dropped: "
            f"{', '.join(unknown)}."
        )
    return [c for c in columns if c in icc and icc[c] >= STABILITY_MIN_ICC]
