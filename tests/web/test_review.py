"""The whole path in a real browser on the real service: log in, upload a generated study,
watch the analysis progress, see the images, reject a candidate, add a lesion by clicking in
the viewer, sign."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study
from nenscope.store.accounts import create_user
from nenscope.web.app import create_app
from nenscope.web.settings import ServiceSettings

from .conftest import PASSWORD, LiveServer, log_in, screenshot

ANALYSIS_TIMEOUT_MS = 300_000


@pytest.fixture(scope="module")
def study_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("phantom")
    write_phantom_study(folder, PhantomSettings(size="small"))
    out = tmp_path_factory.mktemp("upload") / "study.zip"
    with zipfile.ZipFile(out, "w") as archive:
        for path in sorted(folder.rglob("*.dcm")):
            archive.write(path, path.relative_to(folder).as_posix())
    return out


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = ServiceSettings(data_dir=tmp_path_factory.mktemp("data"), workers=1)
    app = create_app(settings)
    with app.state.store.session() as session:
        create_user(session, "doc", role="physician", password=PASSWORD)
        create_user(session, "tech", role="technologist", password=PASSWORD)
    with LiveServer(app) as live:
        yield live


def canvas_pixels(page: Page) -> np.ndarray:
    png = page.get_by_test_id("viewer").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def test_wrong_password_is_refused(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/login")
    page.fill("[name=username]", "doc")
    page.fill("[name=password]", "wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#login-error")).to_contain_text("Wrong user name or password")


def test_upload_review_and_sign(page: Page, server: LiveServer, study_zip: Path) -> None:
    log_in(page, server, "doc")
    page.set_input_files("#upload-files", str(study_zip))
    page.get_by_role("button", name="Upload").click()
    progress = page.get_by_test_id("job-progress")
    expect(progress).to_be_visible()
    expect(progress).to_have_attribute("data-state", "done", timeout=ANALYSIS_TIMEOUT_MS)
    expect(page.get_by_test_id("study-row")).to_have_count(1)
    screenshot(page, "worklist")

    page.get_by_test_id("open-study").click()
    expect(page).to_have_url(re.compile(r"/studies/\d+$"))
    canvas = page.get_by_test_id("viewer")
    expect(canvas).to_have_attribute("data-ready", "true", timeout=60_000)
    pixels = canvas_pixels(page)
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50, "the viewer canvas is blank"
    assert (pixels.max(axis=2) > 60).mean() > 0.05

    rows = page.get_by_test_id("lesion-row")
    expect(rows.first).to_be_visible()
    n_lesions = rows.count()
    assert n_lesions >= 1
    report = page.get_by_test_id("report-line").first
    report_before = report.inner_text()
    screenshot(page, "study")

    # reject the first candidate: its row, the report summary and the overlay follow
    first = rows.first
    first_id = first.get_attribute("data-lesion-id")
    first.click()  # jumps the viewer to the lesion
    first.get_by_role("button", name=re.compile("^Reject")).click()
    row = page.locator(f"[data-testid=lesion-row][data-lesion-id='{first_id}']")
    expect(row).to_have_attribute("data-status", "rejected")
    expect(report).not_to_have_text(report_before)
    expect(page.locator("#analysis-status")).to_be_visible()

    # add a lesion by clicking where the rejected one was (the server grows it from the seed)
    page.select_option("#layout", "axial")
    row.click()
    x, y = page.evaluate(
        "() => { const nv = window.nenscope.viewer;"
        " const p = nv.frac2canvasPos(nv.scene.crosshairPos);"
        " return [p[0] / (window.devicePixelRatio || 1), p[1] / (window.devicePixelRatio || 1)]; }"
    )
    page.get_by_role("button", name="Add lesion by click").click()
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + x, box["y"] + y)
    expect(rows).to_have_count(n_lesions + 1)
    added = rows.last
    # a lesion the reader adds is a finding (confirmed); grown from the same seed on the same
    # SUV image it is the lesion that was rejected: same SUVmax and volume
    expect(added).to_have_attribute("data-status", "confirmed")
    cells = added.locator("td")
    assert cells.nth(2).inner_text() == row.locator("td").nth(2).inner_text()
    assert cells.nth(3).inner_text() == row.locator("td").nth(3).inner_text()
    screenshot(page, "study-reviewed")

    # sign: the page then shows the signed version
    page.get_by_role("button", name="Sign report").click()
    expect(page.get_by_test_id("signed")).to_contain_text("Signed: version")
    expect(rows.first.get_by_role("button", name=re.compile("^Reject"))).to_be_disabled()
    screenshot(page, "study-signed")


def test_technologist_sees_the_signed_version_and_cannot_sign(
    page: Page, server: LiveServer
) -> None:
    # runs after test_upload_review_and_sign (same server): the study is signed by then
    log_in(page, server, "tech")
    # the patient's timeline: one analysed study, plots of SUVmax, TLG and volume
    page.get_by_role("link", name="NENSCOPE-PHANTOM-0").click()
    expect(page.get_by_test_id("timeline-row")).to_have_count(1)
    expect(page.locator("#plots svg")).to_have_count(3)
    expect(page.locator("#plots svg").first).to_have_attribute("aria-label", re.compile("SUVmax"))
    screenshot(page, "timeline")
    page.goto(f"{server.url}/")
    page.get_by_role("link", name="Open").first.click()
    expect(page.get_by_test_id("signed")).to_contain_text("Signed: version")
    expect(page.get_by_role("button", name="Sign report")).to_be_hidden()
