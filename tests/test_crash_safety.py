"""Issue 14 part 3: no half-written result, whatever the moment a run is killed.

* :mod:`nenscope.pipeline.staging` on its own: a staged folder is published whole or not at all, a
  previous result survives a failed run, a torn journal line is dropped.
* ``radiomics-batch``: a case killed after its first ROI is not counted as done.
* ``kill -9`` of real ``nenscope analyze`` and ``nenscope radiomics-batch`` processes at random
  moments (fixed seed, bounded count): the output folder is always the previous complete
  result or the new complete one (:func:`nenscope.pipeline.staging.check_complete`), the
  Parquet file always readable, and a resumed batch gives the rows of an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from nenscope.cli import app
from nenscope.core.errors import WorkbenchError
from nenscope.core.geometry import ImageVolume, affine_from_spacing
from nenscope.core.units import Unit
from nenscope.dicom.nifti import write_nifti
from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study
from nenscope.pipeline.batch import CASE_COMPLETE, journal_path
from nenscope.pipeline.staging import (
    COMPLETION_RECORD,
    IncompleteResultError,
    check_complete,
    read_jsonl,
    staged_folder,
)

CLI = [sys.executable, "-c", "from nenscope.cli import main; main()"]


def test_staged_folder_publishes_whole_and_keeps_foreign_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with staged_folder(out, owned=frozenset({"a.txt", "b.txt"})) as staging:
        (staging / "a.txt").write_text("first")
        (staging / "b.txt").write_text("first")
    assert check_complete(out)["files"].keys() == {"a.txt", "b.txt"}
    (out / "my-notes.txt").write_text("the user's own file")
    with staged_folder(out, owned=frozenset({"a.txt", "b.txt"})) as staging:
        (staging / "a.txt").write_text("second")  # b.txt not written by this run
    assert (out / "a.txt").read_text() == "second"
    assert not (out / "b.txt").exists()  # an earlier run's output cannot pass for this one's
    assert (out / "my-notes.txt").read_text() == "the user's own file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging left behind


def test_failed_run_leaves_previous_result(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with staged_folder(out) as staging:
        (staging / "report.json").write_text("{}")

    def run_until_disk_full() -> None:
        with staged_folder(out) as staging:
            (staging / "report.json").write_text('{"half": ')
            raise OSError(28, "disk full")

    with pytest.raises(OSError, match="disk full"):
        run_until_disk_full()
    assert (out / "report.json").read_text() == "{}"
    check_complete(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_check_complete_detects_a_changed_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with staged_folder(out) as staging:
        (staging / "seg.dcm").write_bytes(b"DICM" * 10)
    (out / "seg.dcm").write_bytes(b"")
    with pytest.raises(IncompleteResultError, match=r"seg\.dcm"):
        check_complete(out)
    (out / COMPLETION_RECORD).unlink()
    with pytest.raises(IncompleteResultError, match="did not finish"):
        check_complete(out)


def test_torn_last_journal_line_is_dropped_other_damage_refused(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    journal.write_text('{"case_id": "A"}\n{"case_id": "B", "RNU0": 1.2')
    assert read_jsonl(journal) == [{"case_id": "A"}]
    journal.write_text('{"case_id": "A", "x\n{"case_id": "B"}\n')
    with pytest.raises(WorkbenchError, match="line 1"):
        read_jsonl(journal)


def _write(path: Path, array: npt.NDArray[np.generic], unit: Unit) -> None:
    volume = ImageVolume(array=array, affine=affine_from_spacing((2.0, 2.0, 2.0)), unit=unit)
    write_nifti(volume, path)


def _batch_table(tmp_path: Path, n_cases: int) -> Path:
    """``n_cases`` cases of 3 ROIs each (a label map with labels 1-3)."""
    rng = np.random.default_rng(14)
    lines = ["id,image,mask"]
    for k in range(n_cases):
        image = rng.uniform(0.5, 8.0, size=(16, 18, 18))
        labels = np.zeros(image.shape, dtype=np.uint8)
        labels[2:6, 2:8, 2:8] = 1
        labels[7:11, 9:15, 9:15] = 2
        labels[11:15, 2:8, 10:16] = 3
        _write(tmp_path / f"img{k}.nii.gz", image, Unit.SUV_BW)
        _write(tmp_path / f"lab{k}.nii.gz", labels, Unit.LABEL)
        lines.append(f"C{k},img{k}.nii.gz,lab{k}.nii.gz")
    table = tmp_path / "cases.csv"
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return table


def _batch(table: Path, out: Path) -> list[str]:
    return [*CLI, "radiomics-batch", str(table), "--out", str(out), "--config", "pet-suv"]


def _rows(out: Path) -> list[tuple[str, str, float]]:
    return sorted((r["case_id"], r["lesion"], r["RNU0"]) for r in pq.read_table(out).to_pylist())


def test_case_killed_after_first_roi_is_not_done(tmp_path: Path) -> None:
    table = _batch_table(tmp_path, 2)
    out = tmp_path / "f.parquet"
    result = CliRunner().invoke(app, _batch(table, out)[3:])
    assert result.exit_code == 0, result.output
    reference = _rows(out)
    # The journal as a kill after C1's first ROI leaves it: C1's other rows and marker lost.
    journal = journal_path(out)
    records = read_jsonl(journal)
    first_c1 = next(i for i, r in enumerate(records) if r.get("case_id") == "C1")
    journal.write_text("".join(json.dumps(r) + "\n" for r in records[: first_c1 + 1]))
    resumed = CliRunner().invoke(app, [*_batch(table, out)[3:], "--format", "json"])
    assert resumed.exit_code == 0, resumed.output
    summary = json.loads(resumed.stdout)
    assert summary["resumed_cases"] == 1  # C0 only; C1 runs again in full
    assert summary["new_rows"] == 3
    assert _rows(out) == reference
    assert sum(1 for r in read_jsonl(journal) if r.get(CASE_COMPLETE)) == 2


def _kill_at(command: list[str], delay_s: float) -> bool:
    """Start ``command``, SIGKILL it after ``delay_s``; True if it was still running."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        process.wait(timeout=delay_s)
        return False
    except subprocess.TimeoutExpired:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        return True


def _timed(command: list[str]) -> float:
    start = time.monotonic()
    subprocess.run(command, check=True, capture_output=True)
    return time.monotonic() - start


@pytest.mark.slow
def test_kill_9_of_radiomics_batch_never_leaves_a_partial_result(tmp_path: Path) -> None:
    table = _batch_table(tmp_path, 4)
    reference_out = tmp_path / "reference.parquet"
    full_s = _timed(_batch(table, reference_out))
    reference = _rows(reference_out)
    out = tmp_path / "f.parquet"
    rng = random.Random(14)
    for _ in range(4):
        _kill_at(_batch(table, out), rng.uniform(0.0, full_s))
        if out.exists():
            pq.read_table(out)  # never a torn Parquet file
    subprocess.run(_batch(table, out), check=True, capture_output=True)
    assert _rows(out) == reference


@pytest.mark.slow
def test_kill_9_of_analyze_never_leaves_a_partial_result(tmp_path: Path) -> None:
    study = tmp_path / "study"
    write_phantom_study(study, PhantomSettings(size="small", seed=3))
    out = tmp_path / "out"
    command = [*CLI, "analyze", str(study), "--out", str(out), "--no-pdf"]
    full_s = _timed(command)
    first = check_complete(out)
    rng = random.Random(14)
    for _ in range(4):
        _kill_at(command, rng.uniform(0.0, full_s))
        record = check_complete(out)  # the previous complete result or the new complete one
        assert record["files"].keys() == first["files"].keys()
        leftovers = [p.name for p in tmp_path.iterdir() if p.name not in ("study", "out")]
        assert all(name.startswith(".out.staging-") for name in leftovers), leftovers
    subprocess.run(command, check=True, capture_output=True)
    check_complete(out)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
