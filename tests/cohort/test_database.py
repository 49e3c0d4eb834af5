"""``cohort run --db``: results also in the service store, once, on SQLite and PostgreSQL.

Two small synthetic studies and a broken folder run on a LocalCluster with the store given;
the store then holds each done study (patient, study, series, every file), one done analysis
per study whose lesion rows are the study's rows of lesions.parquet, and the review's arrays.
A second run adds nothing (the analyses carry the study's content key).
"""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from nenscope.cohort import ClusterSpec, StoreTarget, read_manifest, run_cohort
from tests.cli.conftest import RunCli

pytest.importorskip("distributed")
pytest.importorskip("sqlalchemy")


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study

    root = tmp_path_factory.mktemp("cohort-db")
    for i in range(2):
        write_phantom_study(root / f"s{i}", PhantomSettings(size="small", seed=10 + i))
    (root / "broken").mkdir()
    (root / "broken" / "x.dcm").write_bytes(b"not DICOM")
    text = "study,patient_id,grade\ns0,P0,G1\nbroken,P1,G2\ns1,P1,G2\n"
    (root / "manifest.csv").write_text(text, encoding="utf-8")
    return root / "manifest.csv"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'service.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))


def _store_rows(target: StoreTarget) -> dict[str, object]:
    from sqlalchemy import func, select

    from nenscope.store.db import Store
    from nenscope.store.models import Analysis, Instance, Lesion, Patient, Study

    store = Store(target.data_dir, target.db_url, migrate=False)
    try:
        with store.session() as session:
            analyses = session.scalars(select(Analysis).order_by(Analysis.id)).all()
            return {
                "patients": session.scalar(select(func.count(Patient.id))),
                "studies": session.scalar(select(func.count(Study.id))),
                "instances": session.scalar(select(func.count(Instance.id))),
                "study_status": sorted(session.scalars(select(Study.status)).all()),
                "analyses": [
                    (a.id, a.status, a.version, a.options["cohort"]["study"]) for a in analyses
                ],
                "lesions": {
                    a.options["cohort"]["study"]: sorted(
                        (row.lesion_key, round(row.suvmax or 0.0, 9))
                        for row in session.scalars(
                            select(Lesion).where(Lesion.analysis_id == a.id)
                        )
                    )
                    for a in analyses
                },
            }
    finally:
        store.close()


@pytest.mark.slow
def test_results_go_into_the_store_once(
    manifest: Path, tmp_path: Path, store_url: str, nenscope_cli: RunCli
) -> None:
    entries = read_manifest(manifest)
    out = tmp_path / "out"
    target = StoreTarget(db_url=store_url, data_dir=tmp_path / "service")
    spec = ClusterSpec(workers=1, dashboard=False)
    first = run_cohort(entries, out, cluster=spec, store=target)
    assert (first.done, first.failed, first.stored) == (2, 1, 2)
    assert first.to_contract()["stored"] == 2
    rows = _store_rows(target)
    # Every DICOM file (the generator's truth.json and NIfTI labels are not DICOM).
    n_files = sum(1 for s in ("s0", "s1") for _ in (manifest.parent / s).rglob("*.dcm"))
    assert rows["instances"] == n_files
    assert rows["studies"] == 2
    assert rows["study_status"] == ["analysed", "analysed"]
    analyses = rows["analyses"]
    assert isinstance(analyses, list)
    assert sorted(a[1:] for a in analyses) == [("done", 1, "s0"), ("done", 1, "s1")]
    assert first.analysis_ids == {a[3]: a[0] for a in analyses}
    # The store's lesion rows are the lesions.parquet rows of the same study.
    table = pq.read_table(out / "lesions.parquet").to_pylist()
    for study in ("s0", "s1"):
        expected = sorted(
            (r["lesion_id"], round(r["suvmax"], 9)) for r in table if r["study"] == study
        )
        lesions = rows["lesions"]
        assert isinstance(lesions, dict)
        assert lesions[study] == expected
        assert expected
    # The review's SUV image is where the service looks for it.
    from nenscope.jobs.worker import version_dir
    from nenscope.store.db import Store

    store = Store(target.data_dir, target.db_url, migrate=False)
    try:
        assert first.analysis_ids is not None
        run = version_dir(store, first.analysis_ids["s0"])
        assert np.load(run / "suv.npy").ndim == 3
        assert np.load(run / "affine.npy").shape == (4, 4)
        # Same file system: each stored DICOM file is a hard link to the study's own file.
        for source in (manifest.parent / "s0").rglob("*.dcm"):
            stored = store.files.path(hashlib.sha256(source.read_bytes()).hexdigest())
            assert stored.stat().st_ino == source.stat().st_ino
            assert stored.stat().st_nlink >= 2  # more with each store the module fills
    finally:
        store.close()
    # Once stored, the cohort folder keeps the small record only, not a copy of the arrays.
    from nenscope.cohort.task import record_path

    s0_key = next(o.key for o in first.outcomes if o.study == "s0")
    assert sorted(p.name for p in record_path(out, s0_key).iterdir()) == ["record.json"]
    studies_csv = (out / "studies.csv").read_text(encoding="utf-8").splitlines()
    assert studies_csv[0].endswith(",db_analysis_id")

    # Resumed through the CLI: nothing analysed again, nothing stored twice, same analyses.
    run = nenscope_cli(
        "cohort",
        "run",
        manifest,
        "--out",
        out,
        "--workers",
        "1",
        "--db",
        store_url,
        "--data-dir",
        target.data_dir,
        "--format",
        "json",
    )
    assert run.exit_code == 0, run.stderr
    payload = json.loads(run.stdout)
    assert (payload["skipped"], payload["stored"], payload["failed"]) == (2, 2, 1)
    with (out / "studies.csv").open(encoding="utf-8", newline="") as handle:
        ids = {r["study"]: r["db_analysis_id"] for r in csv.DictReader(handle)}
    assert ids == {
        "s0": str(first.analysis_ids["s0"]),
        "s1": str(first.analysis_ids["s1"]),
        "broken": "",
    }
    assert _store_rows(target) == rows


def test_db_needs_the_data_folder(
    nenscope_cli: RunCli, manifest: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NENSCOPE_DATA_DIR", raising=False)
    run = nenscope_cli("cohort", "run", manifest, "--out", tmp_path, "--db", "sqlite:///x.db")
    assert run.exit_code == 2
    assert "--data-dir" in run.error_line


def test_unknown_pacs_node_is_named_with_the_known_ones(
    nenscope_cli: RunCli, tmp_path: Path
) -> None:
    manifest = tmp_path / "m.csv"
    manifest.write_text("study,pacs_node,study_instance_uid\nA,orthank,1.2.3\n", encoding="utf-8")
    run = nenscope_cli(
        "cohort", "run", manifest, "--out", tmp_path / "o", "--pacs", "orthanc=dimse://O@h:104"
    )
    assert run.exit_code == 2
    assert "'orthank'" in run.error_line
    assert "Did you mean 'orthanc'?" in run.error_line
