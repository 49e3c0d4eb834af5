"""Report model and renderers: JSON/CSV contract, figure geometry, HTML and PDF as read."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from nenscope.core.errors import InvalidArgumentError
from nenscope.core.geometry import ImageVolume, affine_from_spacing
from nenscope.core.units import Unit
from nenscope.reporting import (
    CSV_COLUMNS,
    LESION_FIELDS,
    LesionEntry,
    LesionMarker,
    LesionReview,
    Quantity,
    ReferenceRegionEntry,
    Report,
    ReportFigures,
    ScoreEntry,
    StudyHeader,
    coronal_mip,
    lesions_to_csv,
    lesions_to_json,
    lesions_to_long_csv,
    render_html,
    render_lesion_png,
    render_mip_png,
    report_to_json,
    sample_axial_plane,
    write_pdf,
)


def _volumes() -> tuple[ImageVolume, ImageVolume, ImageVolume]:
    """PET (4 mm) and CT (2 mm) of a 'body' cylinder with one hot sphere at (20, -10, 40) mm."""
    pet_aff = affine_from_spacing((4.0, 4.0, 4.0), origin_mm=(-100.0, -100.0, 0.0))
    ct_aff = affine_from_spacing((4.0, 2.0, 2.0), origin_mm=(-100.0, -100.0, 0.0))
    z, y, x = np.meshgrid(
        np.arange(25) * 4.0, np.arange(51) * 4.0 - 100, np.arange(51) * 4.0 - 100, indexing="ij"
    )
    body = (x**2 + y**2) < 80.0**2
    sphere = ((x - 20) ** 2 + (y + 10) ** 2 + (z - 40) ** 2) < 12.0**2
    suv = np.where(body, 1.0, 0.0) + np.where(sphere, 9.0, 0.0)
    _, yc, xc = np.meshgrid(
        np.arange(25) * 4.0, np.arange(101) * 2.0 - 100, np.arange(101) * 2.0 - 100, indexing="ij"
    )
    ct = np.where((xc**2 + yc**2) < 80.0**2, 40.0, -1000.0)
    return (
        ImageVolume(array=suv, affine=pet_aff, unit=Unit.SUV_BW),
        ImageVolume(array=ct, affine=ct_aff, unit=Unit.HU),
        ImageVolume(array=sphere.astype(np.float64), affine=pet_aff, unit=Unit.LABEL),
    )


def _quantities(suvmax: float) -> dict[str, Quantity]:
    return {
        "volume_ml": Quantity(value=7.2, unit="mL", method="voxel count x voxel volume"),
        "suvmax": Quantity(value=suvmax, unit="g/mL", method="maximum voxel"),
        "suvpeak": Quantity(
            value=None,
            unit="g/mL",
            method="PERCIST 1 cm3 sphere",
            reason="lesion smaller than the peak sphere",
        ),
        "suvmean": Quantity(value=8.0, unit="g/mL", method="mean of voxels"),
        "tlg": Quantity(value=57.6, unit="g", method="SUVmean x volume"),
    }


def _report(figures: ReportFigures | None = None) -> Report:
    header = StudyHeader(
        patient_name="PHANTOM^ONE",
        patient_id="P1",
        study_date="20260101",
        study_instance_uid="1.2.3",
        pet_series_uid="1.2.3.4",
        ct_series_uid="1.2.3.5",
        tracer="68Ga-DOTATATE",
        injected_activity=Quantity(value=150.0, unit="MBq", method="header"),
        uptake_time=Quantity(value=60.0, unit="min", method="header"),
        weight=Quantity(value=70.0, unit="kg", method="header"),
        manufacturer="nenscope phantom",
    )
    lesion = LesionEntry(
        id=1,
        centroid_mm=(20.0, -10.0, 40.0),
        quantities=_quantities(10.0),
        detection="SUV >= 4.0 g/mL",
        krenning=4,
        site="liver",
    )
    lesion2 = LesionEntry(
        id=2,
        centroid_mm=(-30.0, 5.0, 60.0),
        quantities=_quantities(3.0),
        detection="seed growing",
        krenning=None,
        krenning_reason="no spleen reference",
    )
    ref = ReferenceRegionEntry(
        name="liver",
        mean=Quantity(value=5.0, unit="g/mL", method="mean in 3 cm sphere"),
        sd=Quantity(value=0.5, unit="g/mL", method="SD"),
        volume_ml=Quantity(value=14.1, unit="mL", method="voxels"),
        centre_mm=(-60.0, 10.0, 50.0),
        placement="automatic: 3 cm sphere in the right liver lobe",
    )
    score = ScoreEntry(
        name="Krenning (patient)",
        value="4",
        definition="uptake above spleen",
        details="highest lesion score",
        source="Krenning 1993",
    )
    return Report(
        title="PET/CT report",
        header=header,
        suv=("SUVbw factor 1e-3 g/Bq",),
        warnings=("height estimated",),
        references=(ref,),
        lesions=(lesion, lesion2),
        scores=(score,),
        methods=("threshold 4.0",),
        figures=figures or ReportFigures(),
        created=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_quantity_without_value_needs_reason() -> None:
    with pytest.raises(ValueError, match="needs a reason"):
        Quantity(value=None, unit="mL", method="m")
    with pytest.raises(ValueError, match="finite"):
        Quantity(value=float("nan"), unit="mL", method="m")


def test_report_refuses_non_consecutive_ids() -> None:
    lesion = LesionEntry(
        id=2, centroid_mm=(0.0, 0.0, 0.0), quantities=_quantities(1.0), detection="x"
    )
    with pytest.raises(ValueError, match=r"1\.\.N"):
        Report(title="t", header=None, lesions=(lesion,))


def test_lesions_json_contract() -> None:
    data = json.loads(lesions_to_json(_report()))
    assert isinstance(data, list)
    assert len(data) == 2
    first = data[0]
    for key in ("id", "centroid_mm", *LESION_FIELDS, "krenning"):
        assert key in first
    assert first["centroid_mm"] == [20.0, -10.0, 40.0]
    assert first["suvmax"] == 10.0
    assert first["krenning"] == 4
    assert first["suvpeak"] is None
    assert first["not_computable"]["suvpeak"] == "lesion smaller than the peak sphere"
    assert first["units"]["tlg"] == "g"
    assert data[1]["not_computable"]["krenning"] == "no spleen reference"


def test_lesions_csv_is_one_row_per_lesion_with_units_in_the_header() -> None:
    # Issue 8: the long form gave 1,309 rows for 109 lesions; a person wants one per lesion.
    rows = list(csv.DictReader(io.StringIO(lesions_to_csv(_report()))))
    assert len(rows) == 2
    assert float(rows[0]["suvmax (g/mL)"]) == 10.0
    assert float(rows[1]["centroid_x (mm)"]) == -30.0
    assert rows[0]["suvpeak (g/mL)"] == ""
    assert rows[0]["not_computable"].startswith("suvpeak: lesion smaller than the peak sphere")
    assert "tlg (g)" in rows[0]


def test_lesions_csv_long_form_round_trip() -> None:
    rows = list(csv.DictReader(io.StringIO(lesions_to_long_csv(_report()))))
    assert tuple(rows[0]) == CSV_COLUMNS
    # 3 centroid rows + 5 quantities + krenning per lesion
    assert len(rows) == 2 * 9
    by_key = {(r["lesion_id"], r["quantity"]): r for r in rows}
    assert float(by_key[("1", "suvmax")]["value"]) == 10.0
    assert by_key[("1", "suvmax")]["unit"] == "g/mL"
    assert float(by_key[("2", "centroid_x_mm")]["value"]) == -30.0
    assert by_key[("1", "suvpeak")]["value"] == ""
    assert by_key[("1", "suvpeak")]["reason"] != ""


def test_report_json_is_plain() -> None:
    data = json.loads(report_to_json(_report()))
    assert data["header"]["injected_activity"]["value"] == 150.0
    assert data["created"] == "2026-01-01T00:00:00+00:00"
    assert "figures" not in data


def test_coronal_mip_places_hot_voxel_by_patient_coordinates() -> None:
    suv, _, _ = _volumes()
    mip, extent = coronal_mip(suv)
    # Rows = z (25 slices), columns = x (51): the sphere centre (x=20, z=40) is at the maximum.
    assert mip.shape == (25, 51)
    rows, cols = np.nonzero(mip > 5.0)
    # Pixel centres: x = -100 + 4 col, z = 4 row (by construction of the affine); the sphere
    # is symmetric about its centre, so the mean of its pixel centres is the centre exactly.
    np.testing.assert_allclose((-100 + 4 * cols.mean(), 4 * rows.mean()), (20.0, 40.0), atol=1e-9)
    np.testing.assert_allclose(extent, (-102.0, 102.0, -2.0, 98.0), rtol=1e-12)


def test_sample_axial_plane_reads_ct_at_lps_points() -> None:
    _, ct, _ = _volumes()
    plane = sample_axial_plane(ct, (0.0, 0.0, 40.0), fov_mm=200.0, pixel_mm=2.0)
    # 101 samples on -100..100 mm; centre inside the body (40 HU), corner outside (-1000 HU).
    assert plane.shape == (101, 101)
    np.testing.assert_allclose(plane[50, 50], 40.0, rtol=1e-12)
    np.testing.assert_allclose(plane[0, 0], -1000.0, rtol=1e-12)


def _figures() -> ReportFigures:
    suv, ct, mask = _volumes()
    markers = [
        LesionMarker(id=1, centroid_mm=(20.0, -10.0, 40.0)),
        LesionMarker(id=2, centroid_mm=(-30.0, 5.0, 60.0)),
    ]
    mip = render_mip_png(suv, markers)
    views = {m.id: render_lesion_png(suv, ct, m, mask=mask, caption="SUVmax 10") for m in markers}
    return ReportFigures(mip_png=mip, lesion_pngs=views)


def test_figures_are_png_with_content() -> None:
    figures = _figures()
    assert figures.mip_png is not None
    image = mpimg.imread(io.BytesIO(figures.mip_png), format="png")
    assert image.ndim == 3
    assert image.shape[0] > 300
    # Not blank: the sphere and the numbers make the image far from uniform.
    assert float(image[..., :3].std()) > 0.05


def test_html_is_self_contained() -> None:
    html = render_html(_report(_figures()))
    assert html.count("data:image/png;base64,") == 3
    # Names and dates for people, not DICOM strings.
    assert "One Phantom" in html
    assert "1 Jan 2026" in html
    assert "PHANTOM^ONE" not in html
    assert "20260101" not in html
    assert "68Ga-DOTATATE" in html
    assert "SUVmax" in html
    assert "Krenning (patient)" in html
    assert 'src="http' not in html


def test_html_escapes_text() -> None:
    report = Report(title="<script>x</script>", header=None)
    assert "<script>x" not in render_html(report)


def test_pdf_renders_pages_with_images(tmp_path: Path) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm missing: install poppler-utils (.ci/run does).")
    pdf = tmp_path / "report.pdf"
    write_pdf(_report(_figures()), pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    # Impression to target table, MIP, lesion views, appendix: at least 4 pages.
    assert len(pages) >= 4
    for page in pages:
        img = mpimg.imread(page)
        assert float(img[..., :3].std()) > 0.01, f"{page.name} is blank"
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True, timeout=60
    ).stdout.decode()
    assert "One Phantom" in text
    assert "PHANTOM^ONE" not in text
    assert "1 Jan 2026" in text
    assert "Krenning" in text
    assert "SUVmax" in text


@given(
    values=st.lists(
        st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False),
        min_size=5,
        max_size=5,
    ),
    centroid=st.tuples(*[st.floats(-1e4, 1e4, allow_nan=False)] * 3),
)
def test_json_and_csv_round_trip_every_number(
    values: list[float], centroid: tuple[float, float, float]
) -> None:
    quantities = {
        name: Quantity(value=v, unit="u", method="m")
        for name, v in zip(LESION_FIELDS, values, strict=True)
    }
    lesion = LesionEntry(id=1, centroid_mm=centroid, quantities=quantities, detection="d")
    report = Report(title="t", header=None, lesions=(lesion,))
    data = json.loads(lesions_to_json(report))[0]
    assert [data[name] for name in LESION_FIELDS] == values
    assert tuple(data["centroid_mm"]) == centroid
    rows = {r["quantity"]: r for r in csv.DictReader(io.StringIO(lesions_to_long_csv(report)))}
    assert [float(rows[name]["value"]) for name in LESION_FIELDS] == values
    assert tuple(float(rows[f"centroid_{a}_mm"]["value"]) for a in "xyz") == centroid
    (wide,) = csv.DictReader(io.StringIO(lesions_to_csv(report)))
    assert [float(wide[f"{name} (u)"]) for name in LESION_FIELDS] == values
    assert tuple(float(wide[f"centroid_{a} (mm)"]) for a in "xyz") == centroid


def test_mip_labels_do_not_overlap_for_lesions_behind_each_other() -> None:
    from nenscope.reporting.figures import place_labels

    # Three lesions on one (x, z) (differing only in y) and a fourth close by.
    anchors = [(0.0, -60.0), (0.0, -60.0), (0.0, -60.0), (5.0, -58.0)]
    texts = ["1", "2", "13", "4"]
    extent = (-200.0, 200.0, -230.0, 10.0)
    spots = place_labels(anchors, texts, extent=extent)
    width, height = extent[1] - extent[0], extent[3] - extent[2]
    boxes = [
        (x, y, x + (0.035 * len(t) + 0.03) * width, y + 0.045 * height)
        for (x, y), t in zip(spots, texts, strict=True)
    ]
    for i, a in enumerate(boxes):
        assert extent[0] <= a[0] < a[2] <= extent[1]
        assert extent[2] <= a[1] < a[3] <= extent[3]
        for b in boxes[i + 1 :]:
            overlap_x = min(a[2], b[2]) - max(a[0], b[0])
            overlap_y = min(a[3], b[3]) - max(a[1], b[1])
            assert overlap_x <= 0 or overlap_y <= 0, (a, b)


def test_pdf_table_wraps_long_cells_instead_of_cutting_them(tmp_path: Path) -> None:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext missing: install poppler-utils (.ci/run does).")
    report = _report()
    long_ref = dataclasses.replace(
        report.references[0],
        sd=Quantity(value=None, unit="g/mL", method="SD", reason="too few voxels to estimate"),
    )
    pdf = tmp_path / "report.pdf"
    write_pdf(dataclasses.replace(report, references=(long_ref,)), pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, timeout=60
    ).stdout.decode()
    section = text.split("Reference regions", 1)[1].split("Scores", 1)[0]
    assert "…" not in section
    words = " ".join(section.split())
    for word in ("n/a", "(too", "few", "voxels", "to", "estimate)"):
        assert word in words, section


def _reviewed_report() -> Report:
    report = _report()
    first, second = report.lesions
    return dataclasses.replace(
        report,
        lesions=(
            dataclasses.replace(first, review=LesionReview(status="confirmed", by="dr-a")),
            dataclasses.replace(second, review=LesionReview(status="candidate")),
        ),
    )


def test_lesion_review_refuses_unknown_states() -> None:
    with pytest.raises(InvalidArgumentError, match="'candidate' or 'confirmed'"):
        LesionReview(status="rejected")
    with pytest.raises(InvalidArgumentError, match="added by the reader"):
        LesionReview(status="candidate", added=True)
    assert LesionReview(status="confirmed", by="x", added=True).mark == "+"


def test_reviewed_lesions_json_and_csv_carry_the_decision() -> None:
    plain = _report()
    plain_json = json.loads(lesions_to_json(plain))
    assert not {"status", "reviewed_by", "added_by_reader"} & set(plain_json[0])
    reviewed = _reviewed_report()
    data = json.loads(lesions_to_json(reviewed))
    assert [(d["status"], d["reviewed_by"], d["added_by_reader"]) for d in data] == [
        ("confirmed", "dr-a", False),
        ("candidate", None, False),
    ]
    # Besides the review keys, the objects are those of the automatic analysis.
    for before, after in zip(plain_json, data, strict=True):
        for key in ("status", "reviewed_by", "added_by_reader"):
            after.pop(key)
        assert before == after
    rows = list(csv.DictReader(io.StringIO(lesions_to_csv(reviewed))))
    assert [(r["status"], r["reviewed_by"], r["added_by_reader"]) for r in rows] == [
        ("confirmed", "dr-a", "no"),
        ("candidate", "", "no"),
    ]
    assert "status" not in lesions_to_csv(plain).splitlines()[0]
    assert json.loads(report_to_json(reviewed))["lesions"][0]["reviewed_by"] == "dr-a"


def test_reviewed_pdf_marks_lesions_with_a_legend(tmp_path: Path) -> None:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext missing: install poppler-utils (.ci/run does).")
    texts = {}
    for name, report in (("plain", _report()), ("reviewed", _reviewed_report())):
        pdf = tmp_path / f"{name}.pdf"
        write_pdf(report, pdf)
        texts[name] = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, timeout=60
        ).stdout.decode()
    assert "rev." not in texts["plain"]
    assert "Review:" not in texts["plain"]
    reviewed = texts["reviewed"]
    assert "rev." in reviewed
    words = " ".join(reviewed.split())
    assert "Review: \u2713 confirmed by the reader (dr-a)" in words
    assert "? automatic candidate, not reviewed (counted)" in words
    appendix = reviewed.split("All lesions", 1)[1]
    assert "\u2713" in appendix.split("Delineation", 1)[0]
