"""``nenscope model train`` / ``model predict``: the JSON contract and one-line refusals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from tests.cli.conftest import RunCli


def _write_table(path: Path) -> None:
    rng = np.random.default_rng(0)
    n = 60
    y = rng.integers(0, 2, n)
    frame = pd.DataFrame(
        {
            "patient_id": [f"P{i // 2}" for i in range(n)],
            "label": y,
            "f1": y * 2.0 + rng.normal(size=n),
            "f2": rng.normal(size=n),
            "f3": rng.normal(size=n),
        }
    )
    frame["label"] = frame.groupby("patient_id")["label"].transform("first")
    frame["f1"] = frame["label"] * 2.0 + rng.normal(size=n)
    frame.to_csv(path, index=False)


def test_train_json_contract_and_predict(nenscope_cli: RunCli, tmp_path: Path) -> None:
    table = tmp_path / "table.csv"
    _write_table(table)
    run = nenscope_cli(
        "model",
        "train",
        table,
        "--target",
        "label",
        "--group",
        "patient_id",
        "--out",
        tmp_path / "model",
        "--learners",
        "lr",
        "--outer-folds",
        "3",
        "--inner-folds",
        "2",
        "--bootstrap",
        "50",
        "--permutations",
        "1",
        "--format",
        "json",
    )
    assert run.exit_code == 0, run.stderr
    payload = json.loads(run.stdout)
    assert payload["validation"] == "nested-cv"
    assert payload["n"] == 60
    assert set(payload["auc"]) >= {"estimate", "ci95"}
    assert len(payload["auc"]["ci95"]) == 2
    assert "slope" in payload["calibration"]
    assert "permutation_p" in payload
    assert (tmp_path / "model" / "card.html").is_file()
    out = tmp_path / "pred.csv"
    run = nenscope_cli("model", "predict", tmp_path / "model", table, "--out", out)
    assert run.exit_code == 0, run.stderr
    predicted = pd.read_csv(out)
    assert {"prediction", "p_0", "p_1", "ood", "ood_reason"} <= set(predicted.columns)
    assert len(predicted) == 60


def test_unknown_target_is_one_line_error(nenscope_cli: RunCli, tmp_path: Path) -> None:
    table = tmp_path / "table.csv"
    _write_table(table)
    run = nenscope_cli("model", "train", table, "--target", "grade", "--out", tmp_path / "m")
    assert run.exit_code == 2
    assert "no target column 'grade'" in run.error_line


def test_ki67_agreement_in_json_and_text(nenscope_cli: RunCli, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    n = 60
    # One value per patient, around 1.5, 9 and 40 %.
    ki67 = np.repeat(rng.choice([1.5, 9.0, 40.0], n // 2) + rng.uniform(0, 1, n // 2), 2)
    frame = pd.DataFrame(
        {
            "patient_id": [f"P{i // 2}" for i in range(n)],
            "ki67": ki67,
            "f1": np.log(ki67) + rng.normal(0, 0.5, n),
            "f2": rng.normal(size=n),
        }
    )
    table = tmp_path / "table.csv"
    frame.to_csv(table, index=False)
    common = ["model", "train", table, "--target", "ki67", "--group", "patient_id"]
    fast = ["--learners", "lr", "--outer-folds", "3", "--inner-folds", "2"]
    fast += ["--bootstrap", "50", "--permutations", "0", "--ki67-agreement"]
    run = nenscope_cli(*common, "--out", tmp_path / "m", *fast, "--format", "json")
    assert run.exit_code == 0, run.stderr
    payload = json.loads(run.stdout)
    grades = payload["grade_agreement"]
    assert np.asarray(grades["confusion"]).sum() == n
    assert set(grades["kappa_linear"]) == {"estimate", "ci95", "n_boot"}
    text = nenscope_cli(*common, "--out", tmp_path / "m2", *fast)
    assert text.exit_code == 0, text.stderr
    assert "weighted kappa" in text.stdout
    refused = nenscope_cli(*common, "--out", tmp_path / "m3", *fast, "--ki67-grades")
    assert refused.exit_code == 2
    assert "numeric Ki-67 target" in refused.error_line
