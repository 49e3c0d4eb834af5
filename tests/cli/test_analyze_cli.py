"""``nenscope analyze`` and ``nenscope demo`` as a user runs them (a separate process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nenscope.dicom.synthetic import PhantomSettings, PhantomTruth, write_phantom_study

CLI = [sys.executable, "-c", "from nenscope.cli import main; main()"]


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    # A wide terminal, so that rich does not wrap the paths it prints.
    env = {**os.environ, "COLUMNS": "400"}
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, timeout=600, cwd=cwd, env=env
    )


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PhantomTruth]:
    root = tmp_path_factory.mktemp("cli")
    truth = write_phantom_study(root / "study", PhantomSettings(size="small", seed=7, noise=0.05))
    return root / "study", truth


def test_analyze_json_contract(study: tuple[Path, PhantomTruth], tmp_path: Path) -> None:
    folder, truth = study
    seed = ",".join(str(v) for v in truth.lesion("liver-1").centre_mm)
    run = _run(
        "analyze",
        str(folder),
        "--out",
        str(tmp_path / "out"),
        "--no-auto",
        "--lesion-mm",
        seed,
        "--no-pdf",
        "--format",
        "json",
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["errors"] == []
    assert len(data["lesions"]) == 1
    lesion = data["lesions"][0]
    for key in (
        "id",
        "centroid_mm",
        "volume_ml",
        "suvmax",
        "suvpeak",
        "suvmean",
        "tlg",
        "krenning",
    ):
        assert key in lesion
    assert lesion["krenning"] == 4  # SUV 45 lesion above the spleen (22) on SSTR PET
    scores = {s["name"]: s["value"] for s in data["scores"]}
    assert scores["Krenning (patient)"] == "4"
    assert {r["name"] for r in data["references"]} == {"liver", "spleen", "blood_pool"}
    on_disk = json.loads((tmp_path / "out" / "lesions.json").read_text())
    assert on_disk == data["lesions"]
    for name in ("lesions.csv", "report.html", "seg.dcm", "sr.dcm"):
        assert (tmp_path / "out" / name).is_file()
    assert not (tmp_path / "out" / "report.pdf").exists()


def test_missing_study_is_one_line_error(tmp_path: Path) -> None:
    run = _run("analyze", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"))
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("nenscope: error:")
    assert "no such folder" in lines[0]
    assert "Traceback" not in run.stderr
    # A refused input writes nothing (issue 8: the old code wrote a report of 0 lesions).
    assert not (tmp_path / "out").exists()


def test_bad_point_is_refused(study: tuple[Path, PhantomTruth], tmp_path: Path) -> None:
    run = _run("analyze", str(study[0]), "--out", str(tmp_path / "out"), "--liver-mm", "1,2")
    assert run.returncode == 2
    assert "--liver-mm '1,2' must be three numbers x,y,z in LPS mm" in run.stderr
    assert "Traceback" not in run.stderr


def test_unknown_threshold_names_closest(study: tuple[Path, PhantomTruth], tmp_path: Path) -> None:
    run = _run("analyze", str(study[0]), "--out", str(tmp_path / "out"), "--threshold", "fixd")
    assert run.returncode == 2
    assert "Did you mean 'fixed'?" in run.stderr


def test_demo_prints_where_the_report_is(tmp_path: Path) -> None:
    run = _run("demo", "--size", "small", "--out", str(tmp_path / "demo"))
    assert run.returncode == 0, run.stderr
    report = tmp_path / "demo" / "analysis" / "report.html"
    assert f"Report: {report.resolve()}" in run.stdout
    assert report.is_file()
    assert (tmp_path / "demo" / "study" / "truth.json").is_file()


def test_response_same_study_is_stable(study: tuple[Path, PhantomTruth], tmp_path: Path) -> None:
    # The same study as baseline and follow-up: every change is 0, so PERCIST SMD, RECIST SD
    # and Choi SD by the definitions (no threshold is reached, no new lesion).
    run = _run(
        "response",
        str(study[0]),
        str(study[0]),
        "--out",
        str(tmp_path / "resp"),
        "--no-pdf",
        "--format",
        "json",
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    categories = {r["criterion"]: r["category"] for r in data["response"]}
    assert categories == {"PERCIST 1.0": "SMD", "RECIST 1.1": "SD", "Choi": "SD"}
    for entry in data["response"]:
        assert entry["change_percent"]["value"] == 0.0
    assert (tmp_path / "resp" / "response.json").is_file()


def test_organs_option_names_a_folder_or_the_in_process_model() -> None:
    from nenscope.cli.commands.analyze import _organ_source

    assert _organ_source(None) == (None, None)
    assert _organ_source("TotalSegmentator-Fast") == (None, "totalsegmentator-fast")
    assert _organ_source("totalsegmentator") == (None, "totalsegmentator")
    # A folder that happens to have the model's name is given as a path.
    assert _organ_source("./totalsegmentator") == (Path("totalsegmentator"), None)
    assert _organ_source("/data/seg") == (Path("/data/seg"), None)
