"""CLI commands of issue 2: recommend, exams, evidence, dose (JSON contracts, bad input)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from nenscope.cli import main
from nenscope.cli.app import app

runner = CliRunner()


def _json(args: list[str]) -> dict[str, Any]:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_recommend_example_json_contract() -> None:
    out = _json(["recommend", "--example", "si-net-staging", "--format", "json"])
    assert set(out) == {"plan", "avoid", "warnings"}
    plan = out["plan"]
    assert isinstance(plan, list)
    assert plan[0]["exam"] == "ga68-sstr-pet"
    assert plan[0]["rank"] == 1


def test_recommend_file_with_explain(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"question": "staging", "tumor_type": "nec"}), encoding="utf-8")
    out = _json(["recommend", str(path), "--format", "json", "--explain"])
    assert "explain" in out
    text = runner.invoke(app, ["recommend", str(path), "--explain"]).stdout
    assert "nec-staging" in text
    assert "fdg-pet" in text


def _run_main(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    """Run the console entry point in-process; return (exit status, stderr)."""
    monkeypatch.setattr(sys, "argv", ["nenscope", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 1), capsys.readouterr().err


def test_recommend_bad_input_one_line_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("question: staging\negfr_ml_min: 900\n", encoding="utf-8")
    code, err = _run_main(["recommend", str(path)], monkeypatch, capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert "egfr_ml_min" in lines[0]
    assert "outside the possible range" in lines[0]
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("question: staging\nprimary_sites: pancreas\n", encoding="utf-8")
    code, err = _run_main(["recommend", str(unknown)], monkeypatch, capsys)
    assert code == 2
    assert "Did you mean 'primary_site'" in err
    code, err = _run_main(["recommend"], monkeypatch, capsys)
    assert code == 2
    assert "--example" in err


def test_exams_json_lists_every_exam() -> None:
    out = _json(["exams", "--format", "json"])
    exams = out["exams"]
    assert isinstance(exams, list)
    assert len(exams) == 33
    one = _json(["exams", "exendin-pet", "--format", "json"])["exams"]
    assert isinstance(one, list)
    assert one[0]["radiopharmaceutical"]["targets"] == ["GLP-1R"]


def test_evidence_resolves_ids() -> None:
    ref = _json(["evidence", "hope-2018-auc", "--format", "json"])
    assert "Appropriate Use Criteria" in ref["reference"]["citation"]
    rule = _json(["evidence", "insulinoma-glp1r", "--format", "json"])
    assert rule["references"]
    assert runner.invoke(app, ["evidence", "hope-2018"]).exit_code != 0


def test_dose_commands() -> None:
    act = _json(["dose", "activity", "ga68-sstr-pet", "--weight-kg", "75", "--format", "json"])
    # NETSPOT label: 150 MBq -> 3.15 mSv.
    np.testing.assert_allclose(act["activity_mbq"], 150.0, rtol=1e-12)
    np.testing.assert_allclose(act["effective_dose_msv"], 3.15, rtol=1e-12)
    decay = _json(
        ["dose", "decay", "--nuclide", "F-18", "--activity-mbq", "300", "--start",
         "2024-01-01T08:00+00:00", "--end", "2024-01-01T09:49:45.2+00:00", "--format", "json"]
    )  # fmt: skip
    # One F-18 half-life (6586.2 s = 1 h 49 min 46.2 s) minus 1 s: just above 150 MBq.
    np.testing.assert_allclose(decay["activity_end_mbq"], 150.0, rtol=2e-4)
    eanm = _json(
        ["dose", "activity", "fdg-pet", "--weight-kg", "75", "--fdg-minutes-per-bed", "3",
         "--format", "json"]
    )  # fmt: skip
    # clinical-facts §1.3 worked check: 75 kg, 3 min/bed, overlap > 30 % -> 175 MBq.
    np.testing.assert_allclose(eanm["activity_mbq"], 175.0, rtol=1e-12)
    exam = _json(["dose", "exam", "fdg-pet", "--activity-mbq", "200", "--format", "json"])
    # ICRP 80/106: 0.019 mSv/MBq x 200 MBq = 3.8 mSv.
    np.testing.assert_allclose(exam["effective_dose_msv"], 3.8, rtol=1e-12)
    ct = _json(["dose", "exam", "ct-cap", "--format", "json"])
    assert ct["activity_mbq"] is None
    sched = _json(
        ["dose", "schedule", "ga68-sstr-pet:12", "ct-cap:6", "--years", "2", "--weight-kg", "75",
         "--format", "json"]
    )  # fmt: skip
    np.testing.assert_allclose(sched["total_msv"], 84.45, rtol=1e-12)
    latest = _json(
        ["dose", "latest", "--nuclide", "Ga-68", "--activity-mbq", "400", "--at",
         "2024-01-01T08:00+00:00", "--required-mbq", "200", "--format", "json"]
    )  # fmt: skip
    # One Ga-68 half-life: 4062.6 s = 67.71 min (NNDC/NuDat 3, the SUV code's nuclide table).
    np.testing.assert_allclose(latest["minutes_after_calibration"], 4062.6 / 60, rtol=1e-12)


def test_exams_and_evidence_text_output() -> None:
    table = runner.invoke(app, ["exams"])
    assert table.exit_code == 0
    assert "ga68-sstr-pet" in table.stdout
    one = runner.invoke(app, ["exams", "mibg-scan"])
    assert one.exit_code == 0
    assert "breastfeeding" in one.stdout
    assert "performance mibg-ppgl-meta" in one.stdout
    bad = runner.invoke(app, ["exams", "mibg"])
    assert bad.exit_code != 0
    for item in (None, "nec-staging", "ga68-dotatoc-net-meta", "fdg-pet", "taieb-2019"):
        args = ["evidence"] if item is None else ["evidence", item]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "citation" in result.stdout
    perf = _json(["evidence", "ga68-dotatoc-net-meta", "--format", "json"])
    assert perf["performance"]["exam"] == "ga68-sstr-pet"
    exam = _json(["evidence", "fdg-pet", "--format", "json"])
    assert "boellaard-2015" in [r["id"] for r in exam["references"]]


def test_dose_text_and_bad_times() -> None:
    text = runner.invoke(app, ["dose", "schedule", "ga68-sstr-pet:12", "--years", "1"])
    assert text.exit_code == 0
    assert "total" in text.stdout
    naive = runner.invoke(
        app, ["dose", "decay", "--nuclide", "F-18", "--activity-mbq", "100", "--start",
              "2024-01-01T08:00", "--end", "2024-01-01T09:00"]
    )  # fmt: skip
    assert naive.exit_code == 2
    assert "no UTC offset" in naive.output
    missing = runner.invoke(app, ["dose", "decay", "--nuclide", "F-18", "--activity-mbq", "100"])
    assert missing.exit_code == 2
    bad_item = runner.invoke(app, ["dose", "schedule", "ct-cap/6"])
    assert bad_item.exit_code == 2


def test_dose_latest_text_rounds_down_to_the_minute() -> None:
    # 400 -> 150 MBq Ga-68: log2(400/150) * 4062.6 s = 5748.7 s = 95.81 min (by hand); the text
    # must not print a time after it (96 min would already hold less than 150 MBq).
    result = runner.invoke(
        app,
        ["dose", "latest", "--nuclide", "Ga-68", "--activity-mbq", "400", "--at",
         "2024-05-01T08:00+02:00", "--required-mbq", "150"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "until 2024-05-01T09:35+02:00 (95 min after calibration)" in text
