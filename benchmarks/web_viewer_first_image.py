"""Time from opening a study's review page to the viewer's first image (issue 12: < 2 s).

Usage: python benchmarks/web_viewer_first_image.py STUDY_DIR [--runs 3]

STUDY_DIR is a PET/CT study folder (e.g. ``nenscope phantom OUT --size clinical``). The study is
imported into a fresh service, its viewer volumes are written as the analysis job writes them,
then Debian's chromium opens /studies/{id} and reads ``data-loaded-ms`` of the canvas (page
navigation start → NiiVue has drawn both volumes). Prints JSON. The volumes are written as the
analysis job writes them (one display grid, ``nenscope.pipeline.viewer``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from nenscope.pipeline.viewer import prepare_view_volumes
from nenscope.store.accounts import create_user
from nenscope.store.imports import import_instances
from nenscope.web.app import create_app
from nenscope.web.settings import ServiceSettings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "web"))
from conftest import CHROMIUM_ARGS, PASSWORD, SCREEN, LiveServer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("study", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="nenscope-bench-"))
    app = create_app(ServiceSettings(data_dir=data, run_jobs=False))
    store = app.state.store
    with store.session() as session:
        create_user(session, "doc", role="physician", password=PASSWORD)
    files = [(p.name, p.read_bytes()) for p in sorted(args.study.rglob("*.dcm"))]
    study_id = import_instances(store, files, user=None, source="upload").study_id
    t0 = time.perf_counter()
    volumes = prepare_view_volumes(args.study, data / "viewer" / str(study_id))
    prepare_s = time.perf_counter() - t0
    sizes = {p.name: p.stat().st_size for p in (volumes.ct, volumes.pet) if p is not None}
    times: list[int] = []
    marks: list[dict[str, int]] = []
    with LiveServer(app) as live, sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport=SCREEN)
        page = context.new_page()
        page.goto(f"{live.url}/login")
        page.fill("[name=username]", "doc")
        page.fill("[name=password]", PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(f"{live.url}/")
        for _ in range(args.runs):
            page.goto(f"{live.url}/studies/{study_id}")
            canvas = page.get_by_test_id("viewer")
            expect(canvas).to_have_attribute("data-ready", "true", timeout=120_000)
            times.append(int(canvas.get_attribute("data-loaded-ms") or -1))
            marks.append(json.loads(canvas.get_attribute("data-marks") or "{}"))
        browser.close()
    shutil.rmtree(data, ignore_errors=True)  # the throwaway service's data folder
    print(
        json.dumps(
            {
                "study": str(args.study),
                "files": len(files),
                "prepare_s": round(prepare_s, 1),
                "volume_bytes": sizes,
                "first_image_ms": times,
                "marks_ms": marks,
            }
        )
    )


if __name__ == "__main__":
    main()
