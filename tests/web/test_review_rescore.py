"""The review page re-scores without a page reload: reject a candidate → the scores change;
move the liver region → the liver SUVmean shown changes; SSTR-RADS inputs with the API's
validation message; undo brings the previous scores back."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from nenscope.store.accounts import create_user
from nenscope.store.imports import import_instances
from nenscope.web.app import create_app
from nenscope.web.settings import ServiceSettings
from tests.service_components import phantom_study  # noqa: F401

from .conftest import PASSWORD, LiveServer, log_in, screenshot

ANALYSIS_TIMEOUT_MS = 300_000
BURDEN = "[data-testid=score][data-score='Whole-body tumour burden']"
RADS = "[data-testid=score][data-score='SSTR-RADS 1.0']"


@pytest.fixture
def server(phantom_study: Path, tmp_path: Path) -> Iterator[LiveServer]:  # noqa: F811
    app = create_app(ServiceSettings(data_dir=tmp_path / "data", workers=1))
    store = app.state.store
    with store.session() as session:
        create_user(session, "doc", role="physician", password=PASSWORD)
    files = [(p.name, p.read_bytes()) for p in sorted(phantom_study.rglob("*.dcm"))]
    import_instances(store, files, user=None, source="upload")
    with LiveServer(app) as live:
        yield live


def _score_text(page: Page, selector: str) -> str:
    # the value only (the "why" details follow it in the same element)
    return str(page.locator(selector).evaluate("e => e.firstChild.textContent")).strip()


def test_edits_update_scores_references_and_report_link(page: Page, server: LiveServer) -> None:
    log_in(page, server, "doc")
    page.get_by_role("button", name="Analyse").click()
    expect(page.get_by_test_id("job-progress")).to_have_attribute(
        "data-state", "done", timeout=ANALYSIS_TIMEOUT_MS
    )
    page.get_by_test_id("open-study").click()
    rows = page.get_by_test_id("lesion-row")
    expect(rows.first).to_be_visible()
    expect(page.locator(BURDEN)).to_be_visible()
    burden_before = _score_text(page, BURDEN)
    link = page.get_by_test_id("report-link")
    expect(link).to_have_attribute("data-version", "1")

    # Reject the hottest candidate: the tumour burden shown changes, no page reload.
    page.evaluate("window.__sameDocument = true")
    suvmax = [float(rows.nth(i).locator("td").nth(2).inner_text()) for i in range(rows.count())]
    hottest = rows.nth(suvmax.index(max(suvmax)))
    hottest.get_by_role("button", name=re.compile("^Reject")).click()
    expect(hottest).to_have_attribute("data-status", "rejected")
    expect(page.locator(BURDEN)).not_to_have_text(re.compile(re.escape(burden_before)))
    expect(hottest.get_by_test_id("lesion-number")).to_have_text("–")
    expect(link).to_have_attribute("data-version", "2")
    expect(page.get_by_test_id("edit-status")).to_contain_text("scores updated")

    # Move the liver region onto the spleen with the number inputs: the liver mean changes.
    liver = page.locator("[data-testid=reference-mean][data-reference=liver]")
    liver_before = liver.inner_text()
    spleen_centre = (
        page.locator("[data-testid=reference-row][data-reference=spleen] td").nth(1).inner_text()
    )
    x, y, z = (float(v) for v in spleen_centre.split(","))
    page.locator("[data-testid=reference-move][data-reference=liver]").click()
    form = page.get_by_test_id("reference-form")
    expect(form).to_be_visible()
    form.locator("[name=x]").fill(str(x))
    form.locator("[name=y]").fill(str(y))
    form.locator("[name=z]").fill(str(z))
    page.get_by_test_id("reference-submit").click()
    expect(liver).not_to_have_text(liver_before)
    expect(page.locator("[data-testid=reference-row][data-reference=liver]")).to_contain_text(
        "moved by doc"
    )
    expect(link).to_have_attribute("data-version", "3")
    screenshot(page, "study-rescored")

    # A centre outside the image: the API's message, naming the point and the valid range.
    page.locator("[data-testid=reference-move][data-reference=spleen]").click()
    form.locator("[name=x]").fill("5000")
    page.get_by_test_id("reference-submit").click()
    expect(page.locator("#study-error")).to_contain_text("lies outside the PET image: x 5000")

    # Undo the move: the liver mean shown is the earlier one again.
    page.locator("#reference-cancel").click()
    page.get_by_test_id("undo").click()
    expect(liver).to_have_text(liver_before)

    # Move it by a click in the viewer: onto a lesion (the crosshair jumps there from its row).
    canvas = page.get_by_test_id("viewer")
    expect(canvas).to_have_attribute("data-ready", "true", timeout=60_000)
    page.select_option("#layout", "axial")
    counted = page.locator("[data-testid=lesion-row]:not([data-status=rejected])").first
    counted.click()
    x_px, y_px = page.evaluate(
        "() => { const nv = window.nenscope.viewer;"
        " const p = nv.frac2canvasPos(nv.scene.crosshairPos);"
        " return [p[0] / (window.devicePixelRatio || 1), p[1] / (window.devicePixelRatio || 1)]; }"
    )
    page.locator("[data-testid=reference-move][data-reference=liver]").click()
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + x_px, box["y"] + y_px)
    expect(liver).not_to_have_text(liver_before)
    expect(form).to_be_hidden()
    page.get_by_test_id("undo").click()
    expect(liver).to_have_text(liver_before)

    # SSTR-RADS: a misspelt value gets the API's message with the closest valid value;
    # the corrected value re-scores.
    rads_before = _score_text(page, RADS)
    first = page.get_by_test_id("sstr-rads-row").first
    anatomy = first.locator("input[name^=anatomy]")
    anatomy.fill("suspicous")
    page.get_by_test_id("sstr-rads-submit").click()
    expect(page.get_by_test_id("sstr-rads-error")).to_contain_text("suspicious")
    anatomy.fill("suspicious")
    page.get_by_test_id("sstr-rads-submit").click()
    expect(page.locator(RADS)).to_contain_text("SSTR-RADS-5")
    assert rads_before != "SSTR-RADS-5"
    expect(page.get_by_test_id("sstr-rads-error")).to_have_text("")
    # the page never reloaded
    assert page.evaluate("window.__sameDocument") is True
    # the report link serves the reviewed HTML of the current version
    href = link.get_attribute("href")
    assert href is not None
    html = page.request.get(f"{server.url}{href}")
    assert html.ok
    assert "rejected by doc" in html.text()
    screenshot(page, "study-sstr-rads")
