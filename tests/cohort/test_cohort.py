"""``cohort run`` on real Dask clusters: a LocalCluster, and a scheduler + 2 workers on loopback.

Two small synthetic studies and one broken folder; the broken one is recorded and the run goes
on. Rerunning skips what is done (content hash), and a run interrupted between studies loses
nothing and repeats nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from nenscope.cohort import ClusterSpec, CohortError, read_manifest, run_cohort, study_key
from nenscope.cohort.task import PARTS_DIR, settings_fingerprint
from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study
from tests.cli.conftest import RunCli

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cohort")
    for i in range(2):
        write_phantom_study(root / f"s{i}", PhantomSettings(size="small", seed=i))
    (root / "broken").mkdir()
    (root / "broken" / "x.dcm").write_bytes(b"not DICOM")
    text = "study,patient_id,grade\ns0,P0,G1\nbroken,P1,G2\ns1,P1,G2\n"
    (root / "manifest.csv").write_text(text, encoding="utf-8")
    return root / "manifest.csv"


def _lesion_table(out: Path) -> list[dict[str, object]]:
    return pq.read_table(out / "lesions.parquet").to_pylist()


def _child_processes() -> list[str]:
    """Command lines of this process's children (Linux /proc), but multiprocessing's
    resource tracker, which lives as long as this process whatever starts the workers."""
    me = str(os.getpid())
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text(encoding="utf-8").rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):  # ended meanwhile
            continue
        if fields[1] == me and "resource_tracker" not in cmdline:
            children.append(cmdline)
    return children


@pytest.mark.slow
def test_local_cluster_broken_study_resume_and_interruption(
    manifest: Path, tmp_path: Path
) -> None:
    entries = read_manifest(manifest)
    out = tmp_path / "out"
    spec = ClusterSpec(workers=2, dashboard=False)
    first = run_cohort(entries, out, cluster=spec)
    assert (first.studies, first.done, first.failed, first.skipped) == (3, 2, 1, 0)
    rows = _lesion_table(out)
    assert len(rows) == first.lesions > 0
    assert {r["study"] for r in rows} == {"s0", "s1"}
    assert {(r["study"], r["patient_id"], r["grade"]) for r in rows} == {
        ("s0", "P0", "G1"),
        ("s1", "P1", "G2"),
    }
    assert all(r["suvmax"] is not None and r["volume_ml"] > 0 for r in rows)
    failures = (out / "failures.csv").read_text(encoding="utf-8").splitlines()
    assert failures[0] == "study,patient_id,error"
    assert len(failures) == 2
    assert failures[1].startswith("broken,P1,")
    assert "PET" in failures[1]
    pids = {o.worker_pid for o in first.outcomes if o.state == "done"}
    assert 0 not in pids  # analysed in worker processes, not in the client
    # Workers, nannies and the workers' fork server have all ended with the run.
    assert _child_processes() == []

    # Rerun: nothing analysed twice, same table.
    second = run_cohort(entries, out, cluster=spec)
    assert (second.done, second.skipped, second.failed) == (2, 2, 1)
    assert sorted(map(str, _lesion_table(out))) == sorted(map(str, rows))

    # A run killed after s0 and while writing s1: s1's part is missing, a temporary file is
    # left, lesions.parquet is gone. The restart analyses s1 only, s0 is skipped.
    s1_key = next(o.key for o in first.outcomes if o.study == "s1")
    (out / PARTS_DIR / f"{s1_key}.json").rename(out / PARTS_DIR / f"{s1_key}.json.tmp-1")
    shutil.rmtree(out / "lesions.parquet")
    third = run_cohort(entries, out, cluster=spec)
    states = {o.study: o.state for o in third.outcomes}
    assert states == {"s0": "skipped", "s1": "done", "broken": "failed"}
    again = _lesion_table(out)
    assert len(again) == len(rows)
    assert len({(r["study"], r["lesion_id"]) for r in again}) == len(again)


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[str]:
    """A real ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1."""
    dask = str(Path(sys.executable).with_name("dask"))
    sched_file = tmp_path / "scheduler.json"
    common = ["--no-dashboard"]
    procs = [
        subprocess.Popen(
            [
                dask,
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--scheduler-file",
                str(sched_file),
                *common,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not sched_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(sched_file.read_text(encoding="utf-8"))["address"]
        for _ in range(2):
            procs.append(
                subprocess.Popen(
                    [
                        dask,
                        "worker",
                        address,
                        "--nthreads",
                        "1",
                        "--nworkers",
                        "1",
                        "--host",
                        "127.0.0.1",
                        *common,
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        from distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=90)
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.mark.slow
def test_real_scheduler_and_two_workers_via_cli(
    manifest: Path, tmp_path: Path, dask_cluster: str, nenscope_cli: RunCli
) -> None:
    out = tmp_path / "out"
    run = nenscope_cli(
        "cohort", "run", manifest, "--out", out, "--scheduler", dask_cluster, "--format", "json"
    )
    assert run.exit_code == 0, run.stderr
    payload = json.loads(run.stdout)
    assert payload["studies"] == 3
    assert payload["done"] == 2
    assert payload["failed"] == 1
    assert payload["lesions"] == len(_lesion_table(out)) > 0


def test_manifest_errors(tmp_path: Path) -> None:
    bad = tmp_path / "m.csv"
    bad.write_text("folder\na\n", encoding="utf-8")
    with pytest.raises(CohortError, match="no 'study' column"):
        read_manifest(bad)
    bad.write_text("study\na\na\n", encoding="utf-8")
    with pytest.raises(CohortError, match="already on line 2"):
        read_manifest(bad)
    bad.write_text("study,suvmax\na,1\n", encoding="utf-8")
    with pytest.raises(CohortError, match="suvmax"):
        read_manifest(bad)


def test_study_key_follows_content_and_settings(tmp_path: Path) -> None:
    folder = tmp_path / "s"
    folder.mkdir()
    (folder / "a.dcm").write_bytes(b"one")
    plain = settings_fingerprint(None)
    key = study_key(folder, plain)
    assert study_key(folder, plain) == key
    assert study_key(folder, settings_fingerprint("ibsi-phantom")) != key
    (folder / "a.dcm").write_bytes(b"two")
    assert study_key(folder, plain) != key


def test_a_lost_worker_fails_only_its_study() -> None:
    from distributed import KilledWorker

    from nenscope.cohort.run import _outcome

    class Lost:
        def result(self) -> None:
            raise KilledWorker("run_study-1", "tcp://127.0.0.1:1")

    outcome = _outcome(Lost(), "s9")
    assert outcome.state == "failed"
    assert outcome.study == "s9"
    assert "KilledWorker" in outcome.error


def test_gather_unions_feature_columns_and_keeps_lesion_free_studies(tmp_path: Path) -> None:
    import pyarrow as pa

    from nenscope.cohort import StudyEntry, StudyOutcome, gather_lesions
    from nenscope.cohort.task import part_path

    (tmp_path / PARTS_DIR).mkdir()
    base = {"lesion_id": 1, "status": "candidate", "suvmax": 5.0}
    part_path(tmp_path, "k1").write_text(json.dumps([{**base, "F1": 1.0}]), encoding="utf-8")
    part_path(tmp_path, "k2").write_text(json.dumps([{**base, "F2": 2.0}]), encoding="utf-8")
    part_path(tmp_path, "k3").write_text("[]", encoding="utf-8")  # a study without lesions
    entries = [
        StudyEntry(study=s, path=tmp_path / s, patient_id=p, labels={"grade": g, "ki67": k})
        for s, p, g, k in (("a", "P1", "G1", "2"), ("b", "P2", "G2", "10"), ("c", "P3", "G1", ""))
    ]
    outcomes = [
        StudyOutcome(study=s, state="done", key=k)
        for s, k in (("a", "k1"), ("b", "k2"), ("c", "k3"))
    ]
    assert gather_lesions(tmp_path, entries, outcomes) == 2
    table = pq.read_table(tmp_path / "lesions.parquet")
    rows = table.to_pylist()
    assert [(r["study"], r["F1"], r["F2"]) for r in rows] == [("a", 1.0, None), ("b", None, 2.0)]
    assert table.schema.field("ki67").type == pa.float64()  # numeric labels become numbers
    assert rows[1]["ki67"] == 10.0
    assert rows[0]["grade"] == "G1"
    # Column types come from the rows' values: ints stay integers, a study without lesions
    # adds a file of zero rows.
    assert table.schema.field("lesion_id").type == pa.int64()
    assert len(list((tmp_path / "lesions.parquet").glob("*.parquet"))) == 3


def test_a_part_that_cannot_be_read_is_named_or_analysed_again(tmp_path: Path) -> None:
    from nenscope.cohort import StudyEntry, StudyOutcome, StudyTask, gather_lesions, run_study
    from nenscope.cohort.task import part_path, read_part

    (tmp_path / PARTS_DIR).mkdir()
    part_path(tmp_path, "k1").write_text('{"lesion_id": 1}', encoding="utf-8")  # not a list
    entry = StudyEntry(study="a", path=tmp_path / "a", patient_id="P1", labels={})
    with pytest.raises(CohortError, match=r"k1\.json is not a JSON list of lesion rows"):
        gather_lesions(tmp_path, [entry], [StudyOutcome(study="a", state="done", key="k1")])

    # A worker that finds its study's part unreadable analyses the study again.
    study = tmp_path / "s0"
    write_phantom_study(study, PhantomSettings(size="small", seed=0))
    key = study_key(study, settings_fingerprint(None))
    part_path(tmp_path, key).write_text("[{truncated", encoding="utf-8")
    outcome = run_study(StudyTask(study="s0", path=str(study), out_dir=str(tmp_path)))
    assert outcome.state == "done", outcome
    assert len(read_part(part_path(tmp_path, key))) == outcome.lesions
