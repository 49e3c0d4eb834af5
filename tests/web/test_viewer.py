"""The viewer alone: NiiVue in chromium (SwiftShader WebGL) shows the compact volumes of a
generated study; the canvas is not blank, the crosshair read-out gives SUV and HU."""

from __future__ import annotations

import io
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study
from nenscope.store.accounts import create_user
from nenscope.store.imports import import_instances
from nenscope.web.app import create_app
from nenscope.web.settings import ServiceSettings

from .conftest import PASSWORD, LiveServer, log_in, screenshot


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("phantom")
    write_phantom_study(out, PhantomSettings(size="small"))
    return out


@pytest.fixture(scope="module")
def server(study: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = ServiceSettings(data_dir=tmp_path_factory.mktemp("data"), run_jobs=False)
    app = create_app(settings)
    store = app.state.store
    with store.session() as session:
        create_user(session, "doc", role="physician", password=PASSWORD)
    files = [(p.name, p.read_bytes()) for p in sorted(study.rglob("*.dcm"))]
    imported = import_instances(store, files, user=None, source="upload")
    app.state.test_study_id = imported.study_id
    with LiveServer(app) as live:
        yield live


def canvas_pixels(page: Page) -> np.ndarray:
    png = page.get_by_test_id("viewer").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def test_volumes_need_a_signed_in_user(server: LiveServer) -> None:
    study_id = server.app.state.test_study_id
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{server.url}/studies/{study_id}/volumes/pet.nii.gz")
    info.value.close()
    assert info.value.code == 401


def test_viewer_shows_the_study(page: Page, server: LiveServer) -> None:
    study_id = server.app.state.test_study_id
    log_in(page, server, "doc", f"/studies/{study_id}")
    canvas = page.get_by_test_id("viewer")
    expect(canvas).to_have_attribute("data-ready", "true", timeout=60_000)
    pixels = canvas_pixels(page)
    # not blank: many distinct colours, and bright anatomy on the black background
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50
    assert (pixels.max(axis=2) > 60).mean() > 0.05
    expect(page.locator("#readout")).to_contain_text("HU")
    expect(page.locator("#readout")).to_contain_text("g/mL")
    screenshot(page, "viewer-fused")
    page.select_option("#view-mode", "pet")
    page.select_option("#layout", "coronal")
    pet = canvas_pixels(page)
    assert not np.array_equal(pet, pixels)
    # inverse grey: the body is dark on a white background
    assert (pet.min(axis=2) > 200).mean() > 0.3
    screenshot(page, "viewer-pet-coronal")
