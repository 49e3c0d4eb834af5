"""Longitudinal view: a patient's studies over time and the response between two of them."""

from __future__ import annotations

import io
from pathlib import Path

import pydicom

from tests.service_components import study_files
from tests.web.api.service_client import service, token, wait_job


def _as_patient(files: list[tuple[str, bytes]], patient_id: str) -> list[tuple[str, bytes]]:
    out = []
    for name, data in files:
        ds = pydicom.dcmread(io.BytesIO(data))
        ds.PatientID = patient_id
        ds.StudyDate = "20260715"  # six months after the first study
        buffer = io.BytesIO()
        ds.save_as(buffer)
        out.append((name, buffer.getvalue()))
    return out


def test_timeline_and_response(
    tmp_path: Path, phantom_study: Path, other_phantom_study: Path
) -> None:
    first = study_files(phantom_study)
    patient_id = pydicom.dcmread(io.BytesIO(first[0][1])).PatientID
    second = _as_patient(study_files(other_phantom_study), patient_id)
    with service(tmp_path / "data") as client:
        tech = token(client, "tech")
        ids = []
        for files in (first, second):
            answer = client.post("/api/studies", headers=tech, files=[("files", f) for f in files])
            assert answer.status_code == 201, answer.text
            ids.append(answer.json()["study_id"])
        patients = client.get("/api/patients", headers=tech).json()
        assert [(p["patient_id"], p["studies"]) for p in patients] == [(patient_id, 2)]
        patient = patients[0]["id"]
        for study_id in ids:
            job = client.post(f"/api/studies/{study_id}/analyses", headers=tech, json={})
            assert wait_job(client, tech, job.json()["job_id"])["state"] == "done"
        timeline = client.get(f"/api/patients/{patient}/timeline", headers=tech).json()
        assert [p["study_date"] for p in timeline["points"]] == ["2026-01-15", "2026-07-15"]
        for point in timeline["points"]:
            assert point["lesions"] > 0
            assert point["suvmax"] > 0
            assert point["tlg"] > 0
            assert point["volume_ml"] > 0
        assert timeline["units"] == {"suvmax": "g/mL", "tlg": "g", "volume_ml": "mL"}

        queued = client.post(
            f"/api/patients/{patient}/responses",
            headers=tech,
            json={"baseline_study_id": ids[0], "followup_study_id": ids[1]},
        )
        assert queued.status_code == 202, queued.text
        assert wait_job(client, tech, queued.json()["job_id"])["state"] == "done"
        response = client.get(
            f"/api/responses/{queued.json()['response_id']}", headers=tech
        ).json()
        assert response["status"] == "done"
        names = " ".join(entry["criterion"] for entry in response["response"])
        for criterion in ("PERCIST", "RECIST", "Choi"):
            assert criterion in names
        same = client.post(
            f"/api/patients/{patient}/responses",
            headers=tech,
            json={"baseline_study_id": ids[0], "followup_study_id": ids[0]},
        )
        assert same.status_code == 422
