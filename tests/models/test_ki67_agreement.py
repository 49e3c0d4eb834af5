"""Ki-67 regression reports grade agreement (G1 < 3 %, G2 3-20 %, G3 > 20 %) with CIs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from nenscope.models import ModelInputError, TableSpec, ki67_to_grade, prepare_table, train_model
from nenscope.models.metrics import grade_confusion, weighted_kappa
from nenscope.models.train import TrainSettings, write_model
from tests.models.test_train_predict import FAST, _table

AGREE = TrainSettings(
    validation=FAST.validation,
    n_boot=200,
    permutations=0,
    permutation_budget_s=FAST.permutation_budget_s,
    ki67_agreement=True,
)


@pytest.mark.parametrize("seed", [0, 1, 2], ids=["seed0", "seed1", "seed2"])
def test_weighted_kappa_matches_scikit_learn(seed: int) -> None:
    # Independent implementation as the oracle: scikit-learn's linear-weighted kappa.
    rng = np.random.default_rng(seed)
    true = rng.integers(0, 3, 200)
    pred = np.clip(true + rng.integers(-1, 2, 200), 0, 2)
    ours = weighted_kappa(grade_confusion(true, pred, 3))
    np.testing.assert_allclose(ours, cohen_kappa_score(true, pred, weights="linear"), rtol=1e-12)


def test_kappa_of_one_grade_only_is_undefined() -> None:
    with pytest.raises(ValueError, match="undefined"):
        weighted_kappa(grade_confusion([1, 1], [1, 1], 3))


def _oof_grades(model: object) -> tuple[np.ndarray, np.ndarray]:
    nested = model.nested  # type: ignore[attr-defined]
    table = model.table  # type: ignore[attr-defined]
    codes = {"G1": 0, "G2": 1, "G3": 2}
    true = np.array([codes[g] for g in ki67_to_grade(table.y)])
    pred = np.array([codes[g] for g in ki67_to_grade(np.clip(nested.predictions, 0, 100))])
    return true, pred


def test_grade_agreement_of_a_ki67_model(tmp_path: Path) -> None:
    frame = _table()  # Ki-67 1-2 / 8-9 / 35-36 % by patient; glcm_entropy follows the grade
    table = prepare_table(
        frame, TableSpec(target="ki67", group="patient_id", exclude=("lesion_id", "grade"))
    )
    model = train_model(table, "ki67", AGREE)
    g = model.summary["grade_agreement"]
    assert g["grades"] == ["G1", "G2", "G3"]
    assert g["cutoffs_percent"] == [3.0, 20.0]
    confusion = np.asarray(g["confusion"])
    true, pred = _oof_grades(model)
    np.testing.assert_array_equal(confusion.sum(axis=1), [30, 30, 30])  # 15 patients x 2 each
    np.testing.assert_array_equal(confusion, grade_confusion(true, pred, 3))
    np.testing.assert_allclose(g["accuracy"]["estimate"], np.trace(confusion) / 90, rtol=1e-12)
    np.testing.assert_allclose(
        g["kappa_linear"]["estimate"], cohen_kappa_score(true, pred, weights="linear"), rtol=1e-9
    )
    for key in ("accuracy", "kappa_linear"):
        low, high = g[key]["ci95"]
        assert low <= g[key]["estimate"] <= high
        assert g[key]["n_boot"] > 150
    # Entropy shifts by 1.5 SD per grade (plus a scanner offset): agreement above chance,
    # while the shrunken linear predictions pile up in G2 (measured: kappa 0.36, 0.23-0.53).
    assert g["kappa_linear"]["ci95"][0] > 0.0
    assert confusion[:, 1].sum() > 30
    card = write_model(tmp_path / "m", model)["card"].read_text(encoding="utf-8")
    assert "weighted κ (linear)" in card
    assert 'class="confusion"' in card


def test_grade_agreement_of_noise_covers_chance() -> None:
    frame = _table(seed=3)
    rng = np.random.default_rng(4)
    # Ki-67 of each patient given to another patient: no feature carries it any more.
    patients = frame["patient_id"].unique()
    shuffled = dict(zip(patients, rng.permutation(patients), strict=True))
    ki67 = frame.groupby("patient_id")["ki67"].first()
    frame["ki67"] = [ki67[shuffled[p]] for p in frame["patient_id"]]
    frame = frame.drop(columns=["grade"])
    table = prepare_table(
        frame, TableSpec(target="ki67", group="patient_id", exclude=("lesion_id",))
    )
    g = train_model(table, "ki67", AGREE).summary["grade_agreement"]
    low, high = g["kappa_linear"]["ci95"]
    assert low < 0.0 < high


def test_agreement_needs_a_numeric_percentage() -> None:
    frame = _table()
    graded = prepare_table(frame, TableSpec(target="ki67", group="patient_id", ki67_grades=True))
    with pytest.raises(ModelInputError, match="numeric Ki-67 target"):
        train_model(graded, "ki67", AGREE)
    frame["ki67"] = frame["ki67"] * 10  # per mille, not %
    table = prepare_table(frame, TableSpec(target="ki67", group="patient_id"))
    with pytest.raises(ModelInputError, match="outside 0-100"):
        train_model(table, "ki67", AGREE)
