"""A cohort run killed for real (SIGKILL of its whole process group), then started again.

``nenscope cohort run`` runs as a subprocess in a session of its own, with one worker
process; once two studies have their part files, the client, scheduler, nanny and worker are
all killed at once. The restart must leave every study exactly once in lesions.parquet and
studies.csv, must not analyse again a study whose part was written before the kill (its part
file, named by the content hash, is untouched), and must leave no half-written file.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from nenscope.cohort.task import PARTS_DIR

pytest.importorskip("distributed")

N_STUDIES = 6
KILL_AFTER = 2
"""Part files present when the run is killed (of N_STUDIES, one worker: most are still due)."""

DEADLINE_S = 240.0
"""Longest wait for the first parts under a loaded machine before the test gives up."""


def _cli(manifest: Path, out: Path) -> list[str]:
    nenscope = str(Path(sys.executable).with_name("nenscope"))
    return [nenscope, "cohort", "run", str(manifest), "--out", str(out), "--workers", "1"]


def _parts(out: Path) -> dict[str, int]:
    """Part files (by content key) and their modification times in ns."""
    folder = out / PARTS_DIR
    if not folder.is_dir():
        return {}
    return {p.stem: p.stat().st_mtime_ns for p in folder.glob("*.json")}


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
def test_sigkill_of_the_whole_run_then_restart(tmp_path: Path) -> None:
    from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study

    root = tmp_path / "cohort"
    for i in range(N_STUDIES):
        write_phantom_study(root / f"s{i}", PhantomSettings(size="small", seed=20 + i))
    manifest = root / "manifest.csv"
    lines = ["study,patient_id"] + [f"s{i},P{i // 2}" for i in range(N_STUDIES)]
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out"

    proc = subprocess.Popen(
        _cli(manifest, out),
        start_new_session=True,  # its own process group: client, scheduler, nanny, worker
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + DEADLINE_S
    try:
        while len(_parts(out)) < KILL_AFTER:
            if proc.poll() is not None:
                assert proc.stderr is not None
                pytest.fail(f"the run ended before it was killed: {proc.stderr.read()!r}")
            if time.monotonic() > deadline:
                pytest.fail(f"fewer than {KILL_AFTER} parts after {DEADLINE_S:.0f} s")
            time.sleep(0.05)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.stderr is not None
        proc.stderr.close()
    gone_by = time.monotonic() + 10
    while _group_alive(proc.pid) and time.monotonic() < gone_by:
        time.sleep(0.1)
    assert not _group_alive(proc.pid), "a process of the killed run survived SIGKILL"
    before = _parts(out)
    assert KILL_AFTER <= len(before) < N_STUDIES, "the kill must interrupt the run"
    assert not (out / "lesions.parquet").exists()  # killed before the gather

    rerun = subprocess.run(
        [*_cli(manifest, out), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert (summary["studies"], summary["done"], summary["failed"]) == (N_STUDIES, N_STUDIES, 0)
    assert summary["skipped"] == len(before)

    # Done before the kill: skipped, and their part files (named by content hash) untouched.
    with (out / "studies.csv").open(encoding="utf-8", newline="") as handle:
        studies = list(csv.DictReader(handle))
    assert sorted(r["study"] for r in studies) == [f"s{i}" for i in range(N_STUDIES)]
    state = {r["study_key"]: r["state"] for r in studies}
    assert {key: state[key] for key in before} == dict.fromkeys(before, "skipped")
    assert sorted(state.values()).count("done") == N_STUDIES - len(before)
    after = _parts(out)
    assert {key: after[key] for key in before} == before
    assert set(after) == set(state)

    # Every study once in lesions.parquet, with as many rows as studies.csv says.
    rows = pq.read_table(out / "lesions.parquet").to_pylist()
    assert len({(r["study"], r["lesion_id"]) for r in rows}) == len(rows)
    per_study = {r["study"]: int(r["lesions"]) for r in studies}
    assert {s: sum(r["study"] == s for r in rows) for s in per_study} == per_study
    assert all(n > 0 for n in per_study.values())

    # No torn file: nothing temporary is left, and every Parquet file reads whole.
    leftovers = [p.name for p in out.rglob("*") if ".tmp-" in p.name or ".old-" in p.name]
    assert leftovers == []
    for part in [*(out / PARTS_DIR).glob("*.parquet"), *(out / "lesions.parquet").glob("*")]:
        pq.read_table(part)
