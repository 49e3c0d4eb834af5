"""Training writes a model + card; prediction flags or refuses out-of-distribution cases."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nenscope.models import (
    Learner,
    ModelInputError,
    OutOfDistributionError,
    TableSpec,
    TrainSettings,
    ValidationSettings,
    load_model,
    predict_table,
    prepare_table,
    train_model,
    write_model,
)

FAST = TrainSettings(
    validation=ValidationSettings(
        learners=(Learner.LOGISTIC,), outer_folds=3, inner_folds=2, mrmr_k=(3,), l1_c=(0.5,)
    ),
    n_boot=50,
    permutations=2,
    permutation_budget_s=3600.0,  # generous: the count, not the clock, ends the test
)


def _table(n_patients: int = 45, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n_patients):
        grade = ["G1", "G2", "G3"][p % 3]
        scanner = "A" if p % 2 else "B"
        for lesion in range(2):
            signal = {"G1": 0.0, "G2": 1.5, "G3": 3.0}[grade]
            rows.append(
                {
                    "patient_id": f"P{p:03d}",
                    "lesion_id": lesion + 1,
                    "grade": grade,
                    "scanner": scanner,
                    "glcm_entropy": signal + rng.normal() + (2.0 if scanner == "B" else 0.0),
                    "suvmax": 10 + rng.normal(0, 2),
                    "noise": rng.normal(),
                    "ki67": [1.0, 8.0, 35.0][p % 3] + rng.uniform(0, 1),
                }
            )
    return pd.DataFrame(rows)


def test_train_writes_contract_model_and_card(tmp_path: Path) -> None:
    frame = _table()
    spec = TableSpec(target="grade", group="patient_id", positive=("G2", "G3"), exclude=("ki67",))
    table = prepare_table(frame, spec)
    assert table.feature_names == ("glcm_entropy", "suvmax", "noise")  # ids/labels left out
    model = train_model(table, "grade", FAST)
    s = model.summary
    assert s["validation"] == "nested-cv"
    assert s["n"] == 90
    assert s["n_groups"] == 45
    low, high = s["auc"]["ci95"]
    assert low <= s["auc"]["estimate"] <= high
    assert {"slope", "intercept", "brier", "curve"} <= set(s["calibration"])
    assert s["permutations"] == 2
    assert s["permutation_p"] == pytest.approx(1 / 3)  # strong signal: no permutation beats it
    files = write_model(tmp_path / "m", model)
    card = files["card"].read_text(encoding="utf-8")
    for item in ("Intended use", "Missing values", "Validation", "Calibration", "Limitations"):
        assert item in card
    assert card.count("data:image/png;base64,") >= 4  # ROC, calibration, decision, permutation
    meta = json.loads(files["meta"].read_text(encoding="utf-8"))
    assert meta["features"] == ["glcm_entropy", "suvmax", "noise"]


def test_regression_and_ki67_grades(tmp_path: Path) -> None:
    frame = _table()
    reg = prepare_table(
        frame, TableSpec(target="ki67", group="patient_id", exclude=("lesion_id",))
    )
    assert reg.task.value == "regression"
    s = train_model(reg, "ki67", FAST).summary
    assert {"mae", "r2"} <= set(s)
    assert "auc" not in s
    graded = prepare_table(frame, TableSpec(target="ki67", group="patient_id", ki67_grades=True))
    assert sorted(set(graded.y.tolist())) == ["G1", "G2", "G3"]


def test_predict_flags_out_of_range_and_refuses_unseen_scanner(tmp_path: Path) -> None:
    frame = _table()
    spec = TableSpec(
        target="grade",
        group="patient_id",
        batch="scanner",
        positive=("G2", "G3"),
        exclude=("ki67",),
    )
    settings = TrainSettings(
        validation=ValidationSettings(
            learners=(Learner.LOGISTIC,),
            outer_folds=3,
            inner_folds=2,
            mrmr_k=(3,),
            l1_c=(0.5,),
            harmonise=True,
        ),
        n_boot=20,
        permutations=0,
    )
    write_model(tmp_path / "m", train_model(prepare_table(frame, spec), "grade", settings))
    model = load_model(tmp_path / "m")
    new = frame.head(3).copy()
    new.loc[1, "suvmax"] = 1000.0
    new.loc[2, "scanner"] = "C"
    result = predict_table(model, new)
    out = result.table
    assert out["ood"].tolist() == [False, True, True]
    assert "suvmax" in out.loc[1, "ood_reason"]
    assert out.loc[2, "prediction"] is None  # ComBat cannot harmonise scanner C
    assert out.loc[0, "prediction"] in (0, 1)
    assert result.n_refused == 1
    with pytest.raises(OutOfDistributionError, match="outside the training distribution"):
        predict_table(model, new, strict=True)
    with pytest.raises(ModelInputError, match="suvmax"):
        predict_table(model, new.drop(columns=["suvmax"]))


def test_tampered_model_file_is_refused(tmp_path: Path) -> None:
    frame = _table()
    spec = TableSpec(target="grade", group="patient_id", exclude=("ki67",))
    settings = TrainSettings(validation=FAST.validation, n_boot=20, permutations=0)
    files = write_model(tmp_path / "m", train_model(prepare_table(frame, spec), "grade", settings))
    files["model"].write_bytes(files["model"].read_bytes() + b"x")
    with pytest.raises(ModelInputError, match="checksum"):
        load_model(tmp_path / "m")


def test_bad_target_and_too_few_patients_are_refused() -> None:
    frame = _table(n_patients=6)
    with pytest.raises(ModelInputError, match="no target column 'grad'"):
        prepare_table(frame, TableSpec(target="grad"))
    table = prepare_table(frame, TableSpec(target="grade", group="patient_id"))
    with pytest.raises(ModelInputError, match="only 2 patients"):
        train_model(table, "grade", FAST)
