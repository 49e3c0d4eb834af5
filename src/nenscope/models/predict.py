"""Apply a trained model to new cases, flagging (or refusing) cases outside its training data.

A case is out of distribution when a feature lies outside the range seen in training, when
all its features are missing, or when its scanner/site (the batch column) was never seen. A
case from an unseen batch of a ComBat-harmonised model cannot be harmonised: it gets no
prediction. With ``strict=True`` any out-of-distribution case refuses the whole table.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from nenscope.models.errors import ModelInputError, OutOfDistributionError
from nenscope.models.train import META_FILE, MODEL_FILE

__all__ = ["LoadedModel", "PredictionResult", "load_model", "predict_table"]


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadedModel:
    """A model read back from its folder: the fitted pipeline and its ``model.json``."""

    pipeline: Any
    meta: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class PredictionResult:
    """The input table with prediction columns added, and what was flagged."""

    table: pd.DataFrame
    n_predicted: int
    n_out_of_distribution: int
    n_refused: int
    warnings: tuple[str, ...]


def load_model(model_dir: Path) -> LoadedModel:
    """Read ``model.json`` and ``model.joblib``, checking the model file's SHA-256.

    Raises
    ------
    ModelInputError
        Missing files, or a model file whose checksum differs from the one recorded when it
        was trained (damaged or replaced: a pickle from elsewhere must not be loaded).
    """
    import joblib

    model_dir = Path(model_dir)
    meta_path, model_path = model_dir / META_FILE, model_dir / MODEL_FILE
    for path in (meta_path, model_path):
        if not path.is_file():
            raise ModelInputError(
                f"{path} is missing: {model_dir} is not a model folder written by "
                "'nenscope model train'."
            )
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    digest = hashlib.sha256(model_path.read_bytes()).hexdigest()
    if digest != meta.get("model_sha256"):
        raise ModelInputError(
            f"{model_path} does not match the checksum in {meta_path}; the file was changed "
            "after training. Retrain, or restore the original file."
        )
    return LoadedModel(pipeline=joblib.load(model_path), meta=meta)


def _out_of_range(x: npt.NDArray[np.float64], meta: dict[str, Any]) -> list[list[str]]:
    reasons: list[list[str]] = [[] for _ in range(x.shape[0])]
    ranges = meta["training_ranges"]
    for j, name in enumerate(meta["features"]):
        if name not in ranges:
            continue
        low, high = ranges[name]
        column = x[:, j]
        for i in np.flatnonzero(np.isfinite(column) & ((column < low) | (column > high))):
            reasons[i].append(
                f"{name}={column[i]:.4g} outside training range [{low:.4g}, {high:.4g}]"
            )
    for i in np.flatnonzero(np.all(~np.isfinite(x), axis=1)):
        reasons[i].append("every feature is missing")
    return reasons


def _batches(
    frame: pd.DataFrame, meta: dict[str, Any], reasons: list[list[str]]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Batch code per row, and which rows can be predicted (unseen batch + ComBat: not)."""
    codes = np.zeros(len(frame))
    usable = np.ones(len(frame), dtype=bool)
    batch_col, known = meta.get("batch_column"), list(meta.get("batch_names", []))
    if batch_col is None:
        return codes, usable
    if batch_col not in frame.columns:
        raise ModelInputError(
            f"The model was trained with batch column '{batch_col}'; the table lacks it."
        )
    for i, value in enumerate(frame[batch_col].astype(str)):
        if value in known:
            codes[i] = known.index(value)
            continue
        reasons[i].append(f"{batch_col}='{value}' not seen in training")
        if meta.get("harmonised"):
            usable[i] = False
    return codes, usable


def _add_predictions(
    out: pd.DataFrame, model: LoadedModel, data: npt.NDArray[np.float64], rows: npt.NDArray[Any]
) -> None:
    meta = model.meta
    out["prediction"] = pd.Series([None] * len(out), dtype=object)
    if rows.size == 0:
        return
    if meta["task"] == "classification":
        proba = model.pipeline.predict_proba(data[rows])
        for k, cls in enumerate(meta["classes"]):
            column = np.full(len(out), np.nan)
            column[rows] = proba[:, k]
            out[f"p_{cls}"] = column
        labels = np.asarray(meta["class_values"], dtype=object)[np.argmax(proba, axis=1)]
        out.loc[rows, "prediction"] = labels
    else:
        out.loc[rows, "prediction"] = model.pipeline.predict(data[rows])


def predict_table(
    model: LoadedModel, frame: pd.DataFrame, *, strict: bool = False
) -> PredictionResult:
    """Predict every row; add ``prediction`` (+ ``p_<class>``), ``ood`` and ``ood_reason``.

    Raises
    ------
    ModelInputError
        A feature column the model needs is missing from the table.
    OutOfDistributionError
        ``strict`` and at least one row is out of distribution.
    """
    meta = model.meta
    features: list[str] = meta["features"]
    absent = [f for f in features if f not in frame.columns]
    if absent:
        raise ModelInputError(
            f"The table lacks {len(absent)} feature column(s) the model needs: "
            f"{', '.join(absent[:10])}{' …' if len(absent) > 10 else ''}. Compute the features "
            "with the settings the model was trained on."
        )
    x = frame[features].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    x = np.where(np.isfinite(x), x, np.nan)
    reasons = _out_of_range(x, meta)
    codes, usable = _batches(frame, meta, reasons)
    ood = np.asarray([bool(r) for r in reasons], dtype=bool)
    if strict and ood.any():
        first = int(np.flatnonzero(ood)[0])
        raise OutOfDistributionError(
            f"{int(ood.sum())} of {len(frame)} case(s) lie outside the training distribution "
            f"(row {first}: {'; '.join(reasons[first])}). Drop --strict to predict with a flag."
        )
    data = np.column_stack([x, codes]) if meta.get("harmonised") else x
    out = frame.reset_index(drop=True).copy()
    _add_predictions(out, model, data, np.flatnonzero(usable))
    out["ood"] = ood
    out["ood_reason"] = ["; ".join(r) for r in reasons]
    warnings = []
    if ood.any():
        warnings.append(
            f"{int(ood.sum())} case(s) outside the training distribution (column ood_reason)."
        )
    if (~usable).any():
        warnings.append(
            f"{int((~usable).sum())} case(s) from unseen batches got no prediction (ComBat "
            "cannot harmonise a scanner it was not fitted on)."
        )
    return PredictionResult(
        table=out,
        n_predicted=int(usable.sum()),
        n_out_of_distribution=int(ood.sum()),
        n_refused=int((~usable).sum()),
        warnings=tuple(warnings),
    )
