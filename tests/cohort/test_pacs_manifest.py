"""Manifest rows naming studies on a real PACS (Orthanc): workers retrieve them themselves.

One study is read by DICOMweb (WADO-RS), another by DIMSE (C-GET), a third row names a UID
the PACS does not hold; a folder study runs beside them. With ``--db`` the client imports the
PACS studies into the service store too. The workers' temporary folders are gone afterwards,
and a rerun retrieves again but analyses nothing (the content key does not depend on the
order the PACS sends the instances in). Runs inside ``unshare -n`` like the other Orthanc
tests.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from nenscope import pacs
from nenscope.cohort import ClusterSpec, StoreTarget, read_manifest, run_cohort
from nenscope.dicom.instances import read_instance_header
from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study
from nenscope.pacs.nodes import parse_node
from tests.service_components import OrthancServer, study_files

pytest.importorskip("distributed")


@pytest.mark.slow
def test_pacs_rows_are_retrieved_by_the_workers(
    orthanc: OrthancServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nodes = {
        "web": parse_node("web", f"dicomweb+{orthanc.dicomweb_url}"),
        "dimse": parse_node("dimse", f"dimse://{orthanc.aet}@127.0.0.1:{orthanc.dicom_port}"),
    }
    root = tmp_path / "studies"
    uids = {}
    for name, seed in (("a", 31), ("b", 32), ("local", 33)):
        write_phantom_study(root / name, PhantomSettings(size="small", seed=seed))
        files = study_files(root / name)
        uids[name] = read_instance_header(files[0][1], name="first").study_instance_uid
        if name != "local":
            pacs.store(nodes["dimse"], [data for _, data in files])
    manifest = root / "manifest.csv"
    manifest.write_text(
        "study,patient_id,pacs_node,study_instance_uid\n"
        f"A,P1,web,{uids['a']}\n"
        f"B,P2,dimse,{uids['b']}\n"
        "C,P3,web,1.2.826.0.1.3680043.8.498.999\n"
        "local,P4,,\n",
        encoding="utf-8",
    )
    # Worker processes start with this environment: their temporary folders go here.
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))
    entries = read_manifest(manifest)
    assert [e.pacs_node for e in entries] == ["web", "dimse", "web", None]
    out = tmp_path / "out"
    target = StoreTarget(db_url=f"sqlite:///{tmp_path / 'db.sqlite3'}", data_dir=tmp_path / "svc")
    spec = ClusterSpec(workers=1, dashboard=False)
    first = run_cohort(entries, out, cluster=spec, store=target, pacs=nodes)
    states = {o.study: o.state for o in first.outcomes}
    assert states == {"A": "done", "B": "done", "C": "failed", "local": "done"}
    failed = next(o for o in first.outcomes if o.study == "C")
    assert (
        "returned no instance" in failed.error or "1.2.826.0.1.3680043.8.498.999" in failed.error
    )
    assert first.stored == 3
    rows = pq.read_table(out / "lesions.parquet").to_pylist()
    assert {r["study"] for r in rows} == {"A", "B", "local"}
    assert list(scratch.iterdir()) == []  # the retrieved copies are gone

    # The store holds the PACS studies under their own UIDs, with every instance.
    from sqlalchemy import func, select

    from nenscope.store.db import Store
    from nenscope.store.models import Instance, Series, Study

    store = Store(target.data_dir, target.db_url, migrate=False)
    try:
        with store.session() as session:
            for name in ("a", "b"):
                count = session.scalar(
                    select(func.count(Instance.id))
                    .join(Series, Instance.series_id == Series.id)
                    .join(Study, Series.study_id == Study.id)
                    .where(Study.study_instance_uid == uids[name])
                )
                assert count == len(study_files(root / name))
    finally:
        store.close()

    second = run_cohort(entries, out, cluster=spec, store=target, pacs=nodes)
    assert {o.study: o.state for o in second.outcomes} == {
        "A": "skipped",
        "B": "skipped",
        "C": "failed",
        "local": "skipped",
    }
    assert second.analysis_ids == first.analysis_ids
    assert list(scratch.iterdir()) == []
