"""Sign in the browser and find the SEG and SR in a real PACS (Orthanc).

Orthanc listens on every interface, so this test runs only inside a private network namespace
(``unshare -n``, as .ci/run runs the suite); elsewhere the ``orthanc`` fixture skips and says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from nenscope.pacs.nodes import parse_node
from nenscope.store.accounts import create_user
from nenscope.store.imports import import_instances
from nenscope.web.app import create_app
from nenscope.web.settings import ServiceSettings
from tests.service_components import OrthancServer, orthanc, phantom_study  # noqa: F401

from .conftest import PASSWORD, LiveServer, log_in, screenshot


@pytest.fixture
def server(
    orthanc: OrthancServer,  # noqa: F811
    phantom_study: Path,  # noqa: F811
    tmp_path: Path,
) -> Iterator[LiveServer]:
    node = parse_node("orthanc", f"dicomweb+{orthanc.dicomweb_url}")
    settings = ServiceSettings(data_dir=tmp_path / "data", workers=1, pacs={"orthanc": node})
    app = create_app(settings)
    store = app.state.store
    with store.session() as session:
        create_user(session, "doc", role="physician", password=PASSWORD)
    files = [(p.name, p.read_bytes()) for p in sorted(phantom_study.rglob("*.dcm"))]
    import_instances(store, files, user=None, source="upload")
    with LiveServer(app) as live:
        yield live


def test_sign_sends_seg_and_sr_to_orthanc(
    page: Page,
    server: LiveServer,
    orthanc: OrthancServer,  # noqa: F811
) -> None:
    log_in(page, server, "doc")
    expect(page.get_by_test_id("study-row")).to_have_count(1)
    page.get_by_role("button", name="Analyse").click()
    expect(page.get_by_test_id("job-progress")).to_have_attribute(
        "data-state", "done", timeout=300_000
    )
    page.get_by_test_id("open-study").click()
    expect(page.get_by_test_id("lesion-row").first).to_be_visible()
    page.fill("#send-to", "orthanc")
    page.get_by_role("button", name="Sign report").click()
    sent = page.get_by_test_id("sent").locator("code")
    expect(sent.first).to_be_visible()
    uids = set(sent.all_inner_texts())
    assert all(re.fullmatch(r"[0-9.]+", u) for u in uids)
    screenshot(page, "study-sent-to-pacs")

    found: dict[str, str] = {}
    for instance in orthanc.rest("/instances?expand"):  # type: ignore[attr-defined]
        uid = instance["MainDicomTags"]["SOPInstanceUID"]
        series = orthanc.rest(f"/series/{instance['ParentSeries']}")
        found[uid] = series["MainDicomTags"]["Modality"]  # type: ignore[index]
    assert uids <= set(found), "the UIDs the page lists are not all in Orthanc"
    assert sorted(found[u] for u in uids) == ["SEG", "SR"]
