"""Admin pages, the research export page and saving a plan to a patient, in chromium.

One live service holds an analysed study whose patient has a name, an ID and a birth date;
the researcher's downloaded table must hold none of them.
"""

from __future__ import annotations

import io
import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydicom
import pytest
from playwright.sync_api import Page, expect

from nenscope.dicom.identity import identity_tokens
from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study
from nenscope.pacs.nodes import parse_node
from nenscope.store.accounts import create_user
from nenscope.store.imports import import_instances
from nenscope.web.app import create_app
from nenscope.web.settings import ServiceSettings

from .conftest import PASSWORD, LiveServer, log_in, screenshot

NAME, PATIENT_ID, BIRTH = "DOE^JANE^Q", "MRN-4711-X", "19600116"
JOB_WAIT_S = 300.0


def settled(page: Page) -> None:
    """Wait until htmx has swapped and processed new content (it binds it after a swap)."""
    page.wait_for_function(
        "!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
    )


def _identified_files(folder: Path) -> list[tuple[str, bytes]]:
    out = []
    for path in sorted(folder.rglob("*.dcm")):
        ds = pydicom.dcmread(path)
        ds.PatientName, ds.PatientID, ds.PatientBirthDate = NAME, PATIENT_ID, BIRTH
        buffer = io.BytesIO()
        ds.save_as(buffer)
        out.append((path.name, buffer.getvalue()))
    return out


def _api(server: LiveServer, path: str, token: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{server.url}{path}",
        data=data,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )
    with urllib.request.urlopen(request) as answer:
        return json.loads(answer.read())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    study = tmp_path_factory.mktemp("phantom")
    write_phantom_study(study, PhantomSettings(size="small"))
    node = parse_node("nowhere", "dimse://NOBODY@127.0.0.1:9")
    settings = ServiceSettings(
        data_dir=tmp_path_factory.mktemp("data"), pacs={"nowhere": node}, workers=1
    )
    app = create_app(settings)
    with app.state.store.session() as session:
        for name, role in (("admin", "admin"), ("doc", "physician"), ("res", "researcher")):
            create_user(session, name, role=role, password=PASSWORD)
    imported = import_instances(
        app.state.store, _identified_files(study), user=None, source="upload"
    )
    with LiveServer(app) as live:
        request = urllib.request.Request(
            f"{live.url}/api/auth/token",
            data=json.dumps({"username": "doc", "password": PASSWORD}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request) as answer:
            token = json.loads(answer.read())["token"]
        queued = _api(live, f"/api/studies/{imported.study_id}/analyses", token, {})
        deadline = time.monotonic() + JOB_WAIT_S
        while _api(live, f"/api/jobs/{queued['job_id']}", token)["state"] not in (
            "done",
            "failed",
        ):
            assert time.monotonic() < deadline, "the analysis did not finish"
            time.sleep(0.5)
        assert _api(live, f"/api/jobs/{queued['job_id']}", token)["state"] == "done"
        yield live


def test_admin_manages_accounts(page: Page, server: LiveServer) -> None:
    log_in(page, server, "admin", "/admin/users")
    page.fill("#new-name", "nurse.k")
    page.select_option("#new-role", "technologist")
    page.fill("#new-password", "a long enough password")
    page.get_by_role("button", name="Add account").click()
    expect(page.get_by_test_id("admin-message")).to_contain_text("nurse.k")
    row = page.locator("[data-testid=user-row][data-username='nurse.k']")
    expect(row).to_have_attribute("data-active", "true")
    settled(page)
    row.get_by_label("Role of nurse.k").select_option("physician")
    expect(page.get_by_test_id("admin-message")).to_contain_text("nurse.k: physician, active")
    settled(page)
    row = page.locator("[data-testid=user-row][data-username='nurse.k']")
    row.get_by_role("button", name="Disable nurse.k").click()
    expect(page.locator("[data-testid=user-row][data-username='nurse.k']")).to_have_attribute(
        "data-active", "false"
    )
    settled(page)
    # the last admin cannot lock everybody out
    page.locator("[data-testid=user-row][data-username='admin']").get_by_label(
        "Role of admin"
    ).select_option("physician")
    expect(page.get_by_test_id("admin-error")).to_contain_text("last active admin")
    screenshot(page, "admin-users")


def test_admin_tests_a_pacs_node_and_reads_the_audit_log(page: Page, server: LiveServer) -> None:
    log_in(page, server, "admin", "/admin/pacs")
    row = page.locator("[data-testid=pacs-row][data-node=nowhere]")
    row.get_by_role("button", name="Test nowhere").click()
    result = row.get_by_test_id("echo-result")
    expect(result).to_contain_text("failed after")
    expect(result).to_contain_text("refused")
    screenshot(page, "admin-pacs")
    page.get_by_role("link", name="Audit log").click()
    expect(page.get_by_test_id("audit-row").first).to_be_visible()
    page.select_option("#a-user", "doc")
    expect(page.get_by_test_id("audit-total")).not_to_contain_text("0 event")
    actions = page.get_by_test_id("audit-row").evaluate_all(
        "rows => rows.map(r => r.children[1].textContent)"
    )
    assert actions
    assert set(actions) == {"doc"}
    expect(page).to_have_url(f"{server.url}/admin/audit?user=doc&action=&object_type=&object_id=")
    expect(
        page.locator("[data-testid=audit-row]:not([data-action^='auth.'])").first
    ).to_be_visible()
    page.fill("#a-action", "auth.*")
    expect(page.locator("[data-testid=audit-row]:not([data-action^='auth.'])")).to_have_count(0)
    expect(page.locator("[data-testid=audit-row][data-action^='auth.']").first).to_be_visible()
    screenshot(page, "admin-audit")


def test_admin_pages_are_refused_to_other_roles(page: Page, server: LiveServer) -> None:
    log_in(page, server, "doc", "/admin/users")
    expect(page.get_by_test_id("forbidden")).to_contain_text("admin")
    expect(page.get_by_role("link", name="Admin")).to_have_count(0)
    page.goto(f"{server.url}/export")
    expect(page.get_by_test_id("forbidden")).to_contain_text("researcher or admin")


def test_researcher_exports_without_identity(page: Page, server: LiveServer) -> None:
    log_in(page, server, "res", "/export")
    rows = page.get_by_test_id("export-study")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("anon-")
    page.fill("#x-tracer", "no such tracer")
    expect(page.get_by_test_id("export-study")).to_have_count(0)
    page.fill("#x-tracer", "")
    expect(page.get_by_test_id("export-study")).to_have_count(1)
    screenshot(page, "export")
    with page.expect_download() as info:
        page.get_by_test_id("export-download").click()
    data = Path(info.value.path()).read_bytes()
    lines = data.decode().splitlines()
    assert lines[0].startswith("study,patient,study_date_shifted,age_years,sex")
    assert len(lines) >= 2
    for token in [t for t in identity_tokens(NAME, PATIENT_ID, BIRTH) if len(t) >= 3]:
        assert token.upper().encode() not in data.upper(), f"{token!r} is in the export"


def test_a_plan_is_saved_to_the_patient_and_shown_on_the_timeline(
    page: Page, server: LiveServer
) -> None:
    log_in(page, server, "doc", "/")  # the recommender itself is open to everyone
    page.goto(f"{server.url}/recommend?question=staging&primary_site=pancreas&grade=G2")
    expect(page.get_by_test_id("plan")).to_be_visible()
    patient = page.locator("#plan-patient")
    expect(patient).to_contain_text(PATIENT_ID)
    patient.select_option(index=1)
    page.get_by_role("button", name="Save to patient").click()
    saved = page.get_by_test_id("plan-saved")
    expect(saved).to_contain_text("Saved to the patient")
    saved.get_by_role("link", name="Open the patient's timeline").click()
    plan = page.get_by_test_id("saved-plan")
    expect(plan).to_have_count(1)
    expect(plan).to_contain_text("question: staging")
    expect(plan).to_contain_text("Total effective dose")
    page.locator("#plans").scroll_into_view_if_needed()
    screenshot(page, "timeline-plan")
