"""The vertical slice through the API: token → upload → analysis job → review → sign."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from nenscope.api import AnalysisResult
from nenscope.store import Store
from nenscope.store.models import AnalysisVersion, AuditEvent
from tests.service_components import study_files, zip_of
from tests.web.api.service_client import service, token, wait_job


@pytest.fixture(scope="module")
def zipped_study(phantom_study: Path) -> bytes:
    return zip_of(study_files(phantom_study))


def test_every_api_call_but_token_needs_a_bearer(tmp_path: Path) -> None:
    with service(tmp_path / "data", run_jobs=False) as client:
        for method, path in (
            ("GET", "/api/studies"),
            ("POST", "/api/studies"),
            ("GET", "/api/jobs/1"),
            ("GET", "/api/analyses/1"),
            ("PATCH", "/api/analyses/1/lesions/1"),
            ("POST", "/api/analyses/1/sign"),
            ("POST", "/api/recommend"),
        ):
            answer = client.request(method, path)
            assert answer.status_code == 401, (method, path, answer.text)
            assert "detail" in answer.json()
        bad = client.get("/api/studies", headers={"Authorization": "Bearer not-a-token"})
        assert bad.status_code == 401
        wrong = client.post("/api/auth/token", json={"username": "doc", "password": "nope"})
        assert wrong.status_code == 401
        assert client.get("/docs").status_code == 200
        assert "/api/studies" in client.get("/openapi.json").json()["paths"]


def test_upload_analyse_review_sign(
    tmp_path: Path, db_url: str | None, zipped_study: bytes, phantom_study: Path
) -> None:
    with service(tmp_path / "data", db_url) as client:
        tech, doc = token(client, "tech"), token(client, "doc")
        upload = client.post(
            "/api/studies", headers=tech, files=[("files", ("study.zip", zipped_study))]
        )
        assert upload.status_code == 201, upload.text
        study_id = upload.json()["study_id"]
        # The same study again: its existing id, 200, nothing added.
        again = client.post(
            "/api/studies", headers=tech, files=[("files", ("study.zip", zipped_study))]
        )
        assert (again.status_code, again.json()["study_id"]) == (200, study_id)
        assert again.json()["added"] == 0

        listed = client.get("/api/studies", headers=doc).json()
        assert [s["study_id"] for s in listed] == [study_id]
        assert listed[0]["modalities"] == ["CT", "PT"]
        assert listed[0]["status"] == "stored"

        queued = client.post(f"/api/studies/{study_id}/analyses", headers=tech, json={})
        assert queued.status_code == 202, queued.text
        job_id, analysis_id = queued.json()["job_id"], queued.json()["analysis_id"]
        job = wait_job(client, tech, job_id)
        assert job["state"] == "done", job
        assert job["progress"] == 1.0

        analysis = client.get(f"/api/analyses/{analysis_id}", headers=doc).json()
        assert analysis["status"] == "done"
        lesions = analysis["lesions"]
        assert lesions, analysis
        assert all(les["status"] == "candidate" for les in lesions)
        assert {r["name"] for r in analysis["reference_regions"]} >= {"liver"}
        assert analysis["scores"]
        first = lesions[0]
        # The stored result is AnalysisResult.to_dict(): it restores without the DICOM.
        store: Store = client.app.state.store  # type: ignore[attr-defined]
        with store.session() as session:
            stored = session.scalars(select(AnalysisVersion.result)).one()
        restored = AnalysisResult.from_dict(stored["analysis"])
        assert [les.id for les in restored.report.lesions] == [les["id"] for les in lesions]

        # A technologist may not review; a physician may.
        refused = client.patch(
            f"/api/analyses/{analysis_id}/lesions/{first['id']}",
            headers=tech,
            json={"status": "confirmed"},
        )
        assert refused.status_code == 403
        patched = client.patch(
            f"/api/analyses/{analysis_id}/lesions/{first['id']}",
            headers=doc,
            json={"status": "rejected"},
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["status"] == "rejected"
        rows = client.get(
            f"/api/analyses/{analysis_id}/lesions?status=rejected", headers=doc
        ).json()
        assert [r["id"] for r in rows] == [first["id"]]

        # A seed inside an existing (not rejected) lesion: 409.
        live = next(les for les in lesions if les["id"] != first["id"])
        clash = client.post(
            f"/api/analyses/{analysis_id}/lesions",
            headers=doc,
            json={"seed_mm": live["centroid_mm"]},
        )
        assert clash.status_code == 409, clash.text

        undo = client.post(f"/api/analyses/{analysis_id}/undo", headers=doc)
        assert undo.status_code == 200, undo.text
        statuses = {les["id"]: les["status"] for les in undo.json()["lesions"]}
        assert statuses[first["id"]] == "candidate"
        history = client.get(f"/api/analyses/{analysis_id}/history", headers=doc).json()
        assert [h["action"] for h in history] == ["lesion.status", "undo"]
        assert history[0]["user"] == "doc"

        # Signing is a physician's act.
        assert client.post(f"/api/analyses/{analysis_id}/sign", headers=tech).status_code == 403
        signed = client.post(f"/api/analyses/{analysis_id}/sign", headers=doc, json={})
        assert signed.status_code == 200, signed.text
        body = signed.json()
        assert body["sent"] == []
        pdf = client.get(body["report_pdf"], headers=doc)
        assert pdf.status_code == 200
        assert pdf.content.startswith(b"%PDF")
        assert client.post(f"/api/analyses/{analysis_id}/sign", headers=doc).status_code == 409

        # A change after signing is an amendment: sign again, linked to the first signature.
        client.patch(
            f"/api/analyses/{analysis_id}/lesions/{first['id']}",
            headers=doc,
            json={"status": "confirmed"},
        )
        amended = client.post(f"/api/analyses/{analysis_id}/sign", headers=doc).json()
        assert amended["amends"] == body["signature_id"]
        assert amended["version"] > body["version"]

        with store.session() as session:
            actions = set(session.scalars(select(AuditEvent.action)))
        assert {
            "study.import",
            "study.reimport",
            "analysis.queue",
            "analysis.done",
            "analysis.lesion.status",
            "analysis.undo",
            "analysis.sign",
        } <= actions


def test_researcher_sees_pseudonyms_only(tmp_path: Path, phantom_study: Path) -> None:
    with service(tmp_path / "data", run_jobs=False) as client:
        files = [("files", (name, data)) for name, data in study_files(phantom_study)[:2]]
        assert client.post("/api/studies", headers=token(client, "tech"), files=files).is_success
        real = client.get("/api/studies", headers=token(client, "doc")).json()[0]
        seen = client.get("/api/studies", headers=token(client, "res")).json()[0]
        assert seen["patient_id"].startswith("anon-")
        assert seen["patient_id"] != real["patient_id"]
        refused = client.post("/api/studies", headers=token(client, "res"), files=files)
        assert refused.status_code == 403


def test_upload_limits(tmp_path: Path, phantom_study: Path) -> None:
    with service(tmp_path / "data", run_jobs=False, max_upload_bytes=2_000_000) as client:
        tech = token(client, "tech")
        bomb = zip_of([("zeros.dcm", bytes(1_500_000))])
        answer = client.post("/api/studies", headers=tech, files=[("files", ("b.zip", bomb))])
        assert answer.status_code == 413
        assert "zip bomb" in answer.json()["detail"]
        big = [("files", (n, d)) for n, d in study_files(phantom_study)]
        assert client.post("/api/studies", headers=tech, files=big).status_code == 413
        junk = client.post("/api/studies", headers=tech, files=[("files", ("x.txt", b"hi"))])
        assert junk.status_code == 422
        # A member named to climb out of the store is only a name in a message.
        evil = zip_of([("../../etc/passwd", b"root:x:0:0")])
        answer = client.post("/api/studies", headers=tech, files=[("files", ("e.zip", evil))])
        assert answer.status_code == 422
        assert not (tmp_path / "etc").exists()
