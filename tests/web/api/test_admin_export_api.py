"""Admin API (accounts, audit filters, PACS nodes), plans saved to a patient, and the research
export, which never carries a patient's identity."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pydicom
import pytest
from fastapi.testclient import TestClient

from nenscope.dicom.identity import identity_tokens
from nenscope.pacs.nodes import parse_node
from tests.service_components import study_files
from tests.web.api.service_client import PASSWORD, service, token, wait_job

NAME, PATIENT_ID, BIRTH = "DOE^JANE^Q", "MRN-4711-X", "19600116"
ACCESSION = "ACC-99812"


def _identified(files: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    out = []
    for name, data in files:
        ds = pydicom.dcmread(io.BytesIO(data))
        ds.PatientName, ds.PatientID, ds.PatientBirthDate = NAME, PATIENT_ID, BIRTH
        ds.AccessionNumber = ACCESSION
        buffer = io.BytesIO()
        ds.save_as(buffer)
        out.append((name, buffer.getvalue()))
    return out


@pytest.fixture(scope="module")
def analysed(
    tmp_path_factory: pytest.TempPathFactory, phantom_study: Path
) -> Iterator[tuple[TestClient, int]]:
    # a DIMSE node on a port where nothing listens: its echo must fail with a reason
    node = parse_node("nowhere", "dimse://NOBODY@127.0.0.1:9")
    with service(tmp_path_factory.mktemp("data"), pacs={"nowhere": node}) as client:
        tech = token(client, "tech")
        files = _identified(study_files(phantom_study))
        answer = client.post(
            "/api/studies", headers=tech, files=[("files", (n, d)) for n, d in files]
        )
        assert answer.status_code == 201, answer.text
        study_id = int(answer.json()["study_id"])
        bad = client.post(
            f"/api/studies/{study_id}/analyses", headers=tech, json={"radiomics": "/etc/passwd"}
        )
        assert bad.status_code == 422
        assert "radiomics preset" in bad.json()["detail"]
        queued = client.post(
            f"/api/studies/{study_id}/analyses", headers=tech, json={"radiomics": "pet-suv"}
        ).json()
        assert wait_job(client, tech, queued["job_id"])["state"] == "done"
        yield client, study_id


def test_admin_changes_role_and_disables_an_account(analysed: tuple[TestClient, int]) -> None:
    client, _ = analysed
    admin = token(client, "admin")
    assert client.patch("/api/users/1", headers=token(client, "doc"), json={}).status_code == 403
    new = client.post(
        "/api/users",
        headers=admin,
        json={"username": "temp", "role": "technologist", "password": PASSWORD},
    ).json()
    changed = client.patch(f"/api/users/{new['id']}", headers=admin, json={"role": "physician"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["role"] == "physician"
    temp = token(client, "temp")
    off = client.patch(f"/api/users/{new['id']}", headers=admin, json={"is_active": False})
    assert off.json()["is_active"] is False
    # a disabled account cannot log in, and its token stops working at once
    login = client.post("/api/auth/token", json={"username": "temp", "password": PASSWORD})
    assert login.status_code == 401
    assert client.get("/api/me", headers=temp).status_code == 401
    # the last admin cannot be demoted
    admins = [u for u in client.get("/api/users", headers=admin).json() if u["role"] == "admin"]
    last = client.patch(f"/api/users/{admins[0]['id']}", headers=admin, json={"role": "physician"})
    assert last.status_code == 422
    assert "last active admin" in last.json()["detail"]
    assert client.patch("/api/users/999", headers=admin, json={}).status_code == 404
    # audited with before and after, and found by user and action
    events = client.get(
        "/api/audit", headers=admin, params={"user": "admin", "action": "user.update"}
    )
    assert int(events.headers["X-Total-Count"]) == 2
    assert events.json()[0]["before"] == {"role": "physician", "is_active": True}
    assert events.json()[0]["after"] == {"role": "physician", "is_active": False}
    prefix = client.get("/api/audit", headers=admin, params={"action": "user.*", "limit": 1})
    assert int(prefix.headers["X-Total-Count"]) >= 3
    assert len(prefix.json()) == 1


def test_pacs_nodes_and_a_failing_echo(analysed: tuple[TestClient, int]) -> None:
    client, _ = analysed
    admin = token(client, "admin")
    assert client.get("/api/pacs/nodes", headers=token(client, "tech")).status_code == 403
    nodes = client.get("/api/pacs/nodes", headers=admin).json()
    assert nodes == [
        {
            "name": "nowhere",
            "protocol": "dimse",
            "url": "",
            "host": "127.0.0.1",
            "port": 9,
            "called_aet": "NOBODY",
            "calling_aet": "NENSCOPE",
        }
    ]
    echo = client.post("/api/pacs/nodes/nowhere/echo", headers=admin)
    assert echo.status_code == 200
    assert echo.json()["ok"] is False
    assert echo.json()["error"]
    assert client.post("/api/pacs/nodes/other/echo", headers=admin).status_code == 404


def test_a_plan_is_saved_to_the_patient(analysed: tuple[TestClient, int]) -> None:
    client, study_id = analysed
    doc = token(client, "doc")
    patient = client.get(f"/api/studies/{study_id}", headers=doc).json()
    pk = next(p["id"] for p in client.get("/api/patients", headers=doc).json())
    bad = client.post(
        f"/api/patients/{pk}/plans", headers=doc, json={"form": {"question": ["stagin"]}}
    )
    assert bad.status_code == 422
    assert "staging" in bad.json()["detail"]
    form = {"question": ["staging"], "primary_site": ["pancreas"], "grade": ["G2"]}
    saved = client.post(f"/api/patients/{pk}/plans", headers=doc, json={"form": form})
    assert saved.status_code == 201, saved.text
    plan = saved.json()
    assert plan["scenario"] == form
    assert plan["plan"]["plan"][0]["rank"] == 1
    assert plan["plan"]["total_dose_msv"] > 0
    assert plan["created_by"] == "doc"
    listed = client.get(f"/api/patients/{pk}/plans", headers=doc).json()
    assert [p["id"] for p in listed] == [plan["id"]]
    res = token(client, "res")
    assert (
        client.post(f"/api/patients/{pk}/plans", headers=res, json={"form": form}).status_code
        == 403
    )
    assert (
        client.post("/api/patients/999/plans", headers=doc, json={"form": form}).status_code == 404
    )
    assert patient  # the study exists for the patient the plan went to


def _identity_needles() -> list[str]:
    return [t for t in identity_tokens(NAME, PATIENT_ID, BIRTH, ACCESSION) if len(t) >= 3] + [
        "NENSCOPE-PHANTOM"
    ]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_research_export_holds_no_identity(analysed: tuple[TestClient, int], fmt: str) -> None:
    client, study_id = analysed
    res = token(client, "res")
    assert client.get("/api/export/lesions", headers=token(client, "tech")).status_code == 403
    studies = client.get("/api/export/studies", headers=res).json()
    assert len(studies) == 1
    assert studies[0]["patient"].startswith("anon-")
    assert studies[0]["study"].startswith("study-")
    # the date is moved into the past by whole days; the age is kept
    assert studies[0]["study_date_shifted"] < "2026-01-15"
    assert studies[0]["age_years"] == 65
    answer = client.get(
        "/api/export/lesions",
        headers=res,
        params={"format": fmt, "study": studies[0]["study"], "include_rejected": "true"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.content
    if fmt == "parquet":
        table = pq.read_table(io.BytesIO(body)).to_pylist()
        # the analysis computed radiomics: their features are columns, numbers per lesion
        features = [k for k in table[0] if k.startswith("radiomics.")]
        assert len(features) > 20
        assert any(isinstance(table[0][k], float) for k in features)
        text = repr(table).encode()
        rows = table
    else:
        text = body
        rows = body.decode().splitlines()[1:]
    assert len(rows) >= 1
    assert int(answer.headers["X-Export-Rows"]) == len(rows)
    scanned = (text + body).upper()
    for needle in _identity_needles():
        assert needle.upper().encode() not in scanned, f"{needle!r} is in the {fmt} export"
    study_uid = client.get(f"/api/studies/{study_id}", headers=token(client, "doc")).json()
    for value in study_uid.values():
        if isinstance(value, str) and len(value) > 20 and value.count(".") > 3:
            assert value.encode() not in body  # no UID either
