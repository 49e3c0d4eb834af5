"""The viewer alone: NiiVue in chromium (SwiftShader WebGL) shows the compact volumes of a
generated study; the canvas is not blank, the crosshair read-out gives SUV and HU."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi import FastAPI, Request
from PIL import Image
from playwright.sync_api import Page, expect

from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study
from nenscope.web.pages import mount

from .conftest import LiveServer, screenshot


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("phantom")
    write_phantom_study(out, PhantomSettings(size="small"))
    return out


@pytest.fixture(scope="module")
def server(study: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    cache = tmp_path_factory.mktemp("viewer")
    app = FastAPI()
    mount(app)

    def source(request: Request, study_id: str) -> tuple[Path, Path]:
        return study, cache / study_id

    app.state.viewer_source = source
    with LiveServer(app) as live:
        yield live


def canvas_pixels(page: Page) -> np.ndarray:
    png = page.get_by_test_id("viewer").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def test_viewer_shows_the_study(page: Page, server: LiveServer) -> None:
    page.add_init_script("sessionStorage.setItem('nenscope.token', 'test')")
    page.goto(f"{server.url}/studies/s1")
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
