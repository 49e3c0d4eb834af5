"""Issue 10: an automatic contour that keeps little of its region above the threshold is flagged.

The 50 % background-corrected contour underestimates large heterogeneous tumours (ACRIN #1:
17 mL against a 50-60 mL avid mass); the contour is not changed, the lesion carries a
``volume_warning`` in lesions.json, report.json and a mark with a footnote in the reports.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from nenscope.core import ImageVolume
from nenscope.pipeline.anatomy import MIN_KEPT_FRACTION, volume_warnings
from nenscope.reporting.html import VOLUME_FOOTNOTE, VOLUME_MARK, render_html
from nenscope.reporting.model import LesionEntry, Quantity, Report
from nenscope.reporting.pdf import write_pdf
from nenscope.reporting.tables import lesions_to_json, report_to_json
from nenscope.segmentation import DetectionSettings, threshold_lesions
from tests.factories import grid


def _study() -> tuple[ImageVolume, np.ndarray]:
    """A 46.7 mL plateau at SUV 3 with a 1 mL SUV 20 core, and a uniform SUV 10 cube."""
    suv = grid((40, 40, 60), (2.0, 2.0, 2.0), fill=0.5)
    a = suv.array
    a[10:28, 10:28, 5:23] = 3.0  # 18³ voxels of 8 µL: 46.7 mL above the 2.5 threshold
    a[17:22, 17:22, 12:17] = 20.0  # its hot core: 125 voxels, 1 mL
    a[15:25, 15:25, 38:48] = 10.0  # uniform: the contour keeps all of it
    return suv, a


def test_contour_keeping_little_of_its_region_is_flagged() -> None:
    suv, _ = _study()
    seg = threshold_lesions(suv, settings=DetectionSettings())
    assert seg.candidates is not None
    assert seg.candidate_voxels is not None
    assert seg.n_lesions == 2
    warnings = volume_warnings(suv, seg.labels, [1, 2], seg)
    # Lesion 1 is the SUV 20 core (hottest): its contour keeps 125 of 5,832 voxels.
    assert set(warnings) == {1}
    assert warnings[1].startswith("volume likely underestimated: the contour keeps 2 % of the")
    assert "46.7 mL connected region above the detection threshold" in warnings[1]


def test_threshold_is_at_forty_percent_of_the_region() -> None:
    suv, _ = _study()
    seg = threshold_lesions(suv, settings=DetectionSettings())
    assert seg.candidates is not None
    region = seg.candidates == seg.candidates[19, 19, 14]
    n = int(region.sum())
    # A mask with just under / at 40 % of the region (holding its hottest voxel).
    order = np.argsort(-suv.array[region], kind="stable")
    where = np.flatnonzero(region.ravel())[order]
    at_limit = int(np.ceil(MIN_KEPT_FRACTION * n))
    for keep, flagged in ((at_limit - 1, True), (at_limit, False), (n, False)):
        labels = np.zeros(suv.shape, dtype=np.uint16)
        labels.ravel()[where[:keep]] = 3
        assert (3 in volume_warnings(suv, labels, [3], seg)) is flagged
    # A lesion id absent from the label map, or no lesion: nothing to say.
    assert volume_warnings(suv, np.zeros(suv.shape, dtype=np.uint16), [1], seg) == {}
    assert volume_warnings(suv, seg.labels, [], seg) == {}


def _report(warning: str | None) -> Report:
    q = {
        "volume_ml": Quantity(value=12.0, unit="mL", method="contour"),
        "suvmax": Quantity(value=20.0, unit="g/mL", method="max"),
        "suvpeak": Quantity(value=15.0, unit="g/mL", method="peak"),
        "suvmean": Quantity(value=8.0, unit="g/mL", method="mean"),
        "tlg": Quantity(value=96.0, unit="g", method="volume × SUVmean"),
    }
    lesion = LesionEntry(
        id=1,
        centroid_mm=(0.0, 0.0, 0.0),
        quantities=q,
        detection="automatic",
        volume_warning=warning,
    )
    return Report(title="t", header=None, lesions=(lesion,))


@pytest.mark.parametrize("warning", ["volume likely underestimated: the contour keeps 9 %", None])
def test_warning_in_lesions_json_report_json_and_html(warning: str | None) -> None:
    report = _report(warning)
    assert json.loads(lesions_to_json(report))[0]["volume_warning"] == warning
    assert json.loads(report_to_json(report))["lesions"][0]["volume_warning"] == warning
    html = render_html(report)
    assert (VOLUME_FOOTNOTE in html) is (warning is not None)
    assert (f'class="volume-mark" title="{warning}">{VOLUME_MARK}</span>' in html) is (
        warning is not None
    )


def test_pdf_marks_the_volume_and_prints_the_footnote(tmp_path: Path) -> None:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext missing: install poppler-utils (.ci/run does).")
    texts = {}
    for name, warning in (("flagged", "volume likely underestimated: 9 %"), ("plain", None)):
        pdf = tmp_path / f"{name}.pdf"
        write_pdf(_report(warning), pdf)
        run = subprocess.run(
            ["pdftotext", str(pdf), "-"], check=True, capture_output=True, timeout=60, text=True
        )
        texts[name] = " ".join(run.stdout.split())
    assert "Volume likely underestimated" in texts["flagged"]
    assert f"12 mL{VOLUME_MARK}" in texts["flagged"]
    assert f"12 mL{VOLUME_MARK}" not in texts["plain"]
    assert "Volume likely underestimated" not in texts["plain"]
