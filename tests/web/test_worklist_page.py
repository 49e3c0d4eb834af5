"""The worklist's table is filtered and paged by the server (htmx): a study beyond the newest
fifty is found by its patient, its status or a page step."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from nenscope.store.accounts import create_user
from nenscope.store.models import Patient, Study
from nenscope.web.app import create_app
from nenscope.web.settings import ServiceSettings

from .conftest import LiveServer, log_in, screenshot

N_STUDIES = 60


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    app = create_app(ServiceSettings(data_dir=tmp_path_factory.mktemp("data"), run_jobs=False))
    with app.state.store.session() as session:
        create_user(session, "tech", role="technologist", password="correct horse battery")
        create_user(session, "res", role="researcher", password="correct horse battery")
        for i in range(N_STUDIES):
            patient = Patient(patient_key=f"PAT-{i:03d}", name=f"TEST^PERSON{i}")
            session.add(patient)
            session.flush()
            session.add(
                Study(
                    study_instance_uid=f"1.2.826.0.1.3680043.10.1.{i}",
                    patient_id=patient.id,
                    study_date=f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}",
                    modalities="CT,PT",
                    status="signed" if i == 3 else "analysed",
                )
            )
    with LiveServer(app) as live:
        yield live


def test_filters_and_pages_run_on_the_server(page: Page, server: LiveServer) -> None:
    log_in(page, server, "tech")
    rows = page.get_by_test_id("study-row")
    expect(rows).to_have_count(50)
    expect(page.get_by_test_id("worklist-total")).to_contain_text("60 studies, page 1 of 2")
    page.get_by_role("link", name="older →").click()
    expect(rows).to_have_count(N_STUDIES - 50)
    # PAT-003 is the only signed study, wherever it is in the list
    page.select_option("#f-status", "signed")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("PAT-003")
    page.select_option("#f-status", "")
    page.fill("#f-patient", "PAT-05")
    expect(rows).to_have_count(10)
    page.fill("#f-patient", "nobody")
    expect(rows).to_have_count(0)
    expect(page.locator("#studies-body")).to_contain_text("No study matches the filters.")
    page.fill("#f-patient", "")
    page.fill("#f-from", "2025-12-01")
    expect(page.get_by_test_id("worklist-total")).to_contain_text("5 studies")
    screenshot(page, "worklist-filtered")


def test_researchers_filter_on_pseudonyms(page: Page, server: LiveServer) -> None:
    log_in(page, server, "res")
    rows = page.get_by_test_id("study-row")
    expect(rows).to_have_count(50)
    first = rows.first.locator("td").first.inner_text()
    assert first.startswith("anon-")
    expect(page.get_by_role("button", name="Analyse")).to_have_count(0)
    page.fill("#f-patient", first)
    expect(rows).to_have_count(1)
    page.fill("#f-patient", "PAT-")  # the real IDs are never matched for them
    expect(rows).to_have_count(0)
