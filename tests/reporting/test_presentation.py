"""The report a physician reads: order, applicable scores, targets, figures, rendering.

The HTML is rendered by a real browser (headless Chromium) and the PDF by pdftoppm, and the
pixels are checked, so that a report that reads right in the source but renders wrong fails.
"""

from __future__ import annotations

import dataclasses
import io
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import numpy.typing as npt
import pytest

from nenscope.core.geometry import ImageVolume, affine_from_spacing
from nenscope.core.units import Unit
from nenscope.reporting import (
    LesionEntry,
    LesionMarker,
    PhysiologicalEntry,
    Quantity,
    Report,
    ReportFigures,
    ScoreEntry,
    StudyHeader,
    lesion_figure,
    mip_figure,
    render_html,
    render_lesion_png,
    render_mip_png,
    write_pdf,
)
from nenscope.reporting.presentation import (
    body_region,
    build_view,
    format_dicom_date,
    format_person_name,
    select_target_lesions,
)


def _lesion(
    lid: int,
    suvmax: float,
    volume_ml: float,
    *,
    site: str | None = None,
    diameter_mm: float | None = None,
    krenning: int | None = None,
    reason: str | None = None,
) -> LesionEntry:
    q = {
        "volume_ml": Quantity(value=volume_ml, unit="mL", method="voxels"),
        "suvmax": Quantity(value=suvmax, unit="g/mL", method="max"),
        "suvpeak": Quantity(value=0.8 * suvmax, unit="g/mL", method="peak"),
        "suvmean": Quantity(value=0.6 * suvmax, unit="g/mL", method="mean"),
        "tlg": Quantity(value=0.6 * suvmax * volume_ml, unit="g", method="mean x volume"),
    }
    if diameter_mm is not None:
        q["longest_diameter_mm"] = Quantity(value=diameter_mm, unit="mm", method="axial")
    return LesionEntry(
        id=lid,
        centroid_mm=(10.0 * lid - 60.0, 0.0, 40.0 - 30.0 * lid),
        quantities=q,
        detection="automatic",
        site=site,
        krenning=krenning,
        krenning_reason=reason if krenning is None else None,
    )


def _header(tracer_family: str) -> StudyHeader:
    tracer = "68Ga-DOTATATE" if tracer_family == "sstr" else "FDG -- fluorodeoxyglucose"
    return StudyHeader(
        patient_name="DOE^JOHN",
        patient_id="P7",
        study_date="20240131",
        study_instance_uid="1.2.3",
        pet_series_uid="1.2.3.4",
        ct_series_uid="1.2.3.5",
        tracer=tracer,
        injected_activity=Quantity(value=150.0, unit="MBq", method="header"),
        uptake_time=Quantity(value=60.0, unit="min", method="header"),
        weight=Quantity(value=70.0, unit="kg", method="header"),
        manufacturer="ACME",
        scanner_model="PET 3000",
        tracer_family=tracer_family,
        ct_coverage="CT covers the whole PET field",
    )


def _fdg_report(**changes: object) -> Report:
    reason = "Krenning applies to SSTR imaging; tracer is FDG (fdg)"
    lesions = tuple(
        _lesion(i, 12.0 - 0.5 * i, 2.0 + i, site="liver" if i % 2 else "lung", reason=reason)
        for i in range(1, 15)
    )
    report = Report(
        title="PET/CT analysis",
        header=_header("fdg"),
        suv=("Normalisation: SUVbw in g/mL.",),
        lesions=lesions,
        scores=(
            ScoreEntry(
                name="Whole-body tumour burden",
                value="100 mL",
                definition="sum of lesion volumes",
            ),
        ),
        physiological=(
            PhysiologicalEntry(
                organ="urinary bladder",
                centroid_mm=(0.0, 0.0, -700.0),
                volume_ml=300.0,
                suvmax=60.0,
                reason="most caudal high-uptake midline structure",
            ),
        ),
        created=datetime(2026, 1, 1, 9, 30, tzinfo=UTC),
    )
    return dataclasses.replace(report, **changes)  # type: ignore[arg-type]


def _sstr_report() -> Report:
    lesions = (
        _lesion(1, 30.0, 10.0, site="liver segment VII", krenning=4),
        _lesion(2, 8.0, 3.0, site="pancreas head", krenning=3),
    )
    return Report(
        title="PET/CT analysis",
        header=_header("sstr"),
        lesions=lesions,
        scores=(ScoreEntry(name="Krenning (patient)", value="4", definition="uptake vs organs"),),
        prrt="All lesions show uptake above normal liver: the SSTR criterion for PRRT is met.",
    )


# ------------------------------------------------------------------ names, dates, targets


@pytest.mark.parametrize(
    ("dicom", "person"),
    [
        ("DOE^JOHN", "John Doe"),
        ("O'BRIEN^MARY ANN", "Mary Ann O'Brien"),
        ("Smith^Anna", "Anna Smith"),
        ("DOE^JOHN^^DR", "Dr John Doe"),
        ("STS_001", "STS_001"),
        ("YAMADA^TARO=山田^太郎", "Taro Yamada"),
    ],
    ids=["plain", "apostrophe", "mixed-case", "prefix", "code", "ideographic"],
)
def test_person_names_read_as_names(dicom: str, person: str) -> None:
    assert format_person_name(dicom) == person


@pytest.mark.parametrize(
    ("dicom", "text"),
    [
        ("20240131", "31 Jan 2024"),
        ("19991201", "1 Dec 1999"),
        ("2024", "2024"),
        ("", "date not recorded"),
    ],
    ids=["date", "leading-zero-day", "partial", "empty"],
)
def test_dates_read_as_dates(dicom: str, text: str) -> None:
    assert format_dicom_date(dicom) == text


def test_targets_are_at_most_ten_measurable_first_by_uptake() -> None:
    # 12 measurable lesions (diameter 12 mm) with falling uptake and 3 small very hot ones.
    big = [_lesion(i, 20.0 - i, 5.0, diameter_mm=12.0) for i in range(1, 13)]
    small = [_lesion(i, 50.0, 0.2, diameter_mm=6.0) for i in range(13, 16)]
    targets = select_target_lesions([*big, *small])
    # By hand: the 10 measurable ones with the highest SUVpeak (0.8 x SUVmax), hottest first.
    assert targets == tuple(range(1, 11))


def test_body_region_from_site_words() -> None:
    regions = {
        "liver segment VII": "Abdomen",
        "pancreas head": "Abdomen",
        "lymph node, mediastinal": "Thorax",
        "iliac bone": "Skeleton",
        "lymph node, external iliac": "Pelvis",
        "parotid gland": "Head and neck",
        "left lower limb (soft tissue)": "Extremities",
        "neck / supraclavicular, left (cervical nodal stations)": "Head and neck",
    }
    for site, region in regions.items():
        assert body_region(_lesion(1, 5.0, 1.0, site=site)) == region, site


# ------------------------------------------------------------------ content and order


def _text_order(text: str, headings: list[str]) -> list[int]:
    return [text.index(h) for h in headings]


REPORT_ORDER = [
    "Impression",
    "Technique",
    "Findings by body region",
    "Target lesions",
    "Appendix",
    "All lesions",
    "SUV provenance",
]


def test_html_reads_impression_first_then_technique_findings_targets_appendix() -> None:
    html = render_html(_fdg_report())
    positions = _text_order(html, [f">{h}" for h in REPORT_ORDER])
    assert positions == sorted(positions), positions
    body = html.split("<body>", 1)[1]
    # Nothing but the title and the patient line comes before the impression.
    assert body.index("Impression") < body.index("Tracer")


def test_fdg_report_prints_no_krenning() -> None:
    report = _fdg_report()
    html = render_html(report)
    assert "Krenning" not in html
    assert "SSTR-RADS" not in html
    assert "not computable" not in html
    assert not build_view(report).show_krenning


def test_sstr_report_shows_krenning_rads_and_prrt_in_the_impression() -> None:
    view = build_view(_sstr_report())
    impression = " ".join(view.impression)
    assert "Krenning (patient): 4" in impression
    assert "Krenning / SSTR-RADS of the targets: #1 Krenning 4; #2 Krenning 3." in impression
    assert "PRRT: All lesions show uptake above normal liver" in impression
    html = render_html(_sstr_report())
    assert "<th>Krenning</th>" in html


def test_findings_are_grouped_by_body_region_with_physiology_apart() -> None:
    view = build_view(_fdg_report())
    assert [g.region for g in view.regions] == ["Thorax", "Abdomen"]
    assert all(body_region(les) == "Abdomen" for les in view.regions[1].lesions)
    assert view.physiological == ("urinary bladder: 1 focus, SUVmax up to 60.0, 300.0 mL",)


def test_implausible_result_puts_a_banner_above_the_impression() -> None:
    flag = "109 candidates: more than 30 is not plausible."
    html = render_html(_fdg_report(implausible=(flag,), anatomy=(("liver", "CT"),)))
    body = html.split("<body>", 1)[1]
    assert body.index("Analysis not trustworthy") < body.index("Impression")
    assert "109 candidates" in body
    assert "Target candidates" in body  # candidates, not lesions, when implausible
    assert "<th>Anatomy</th><td>liver: CT</td>" in body
    assert "Analysis not trustworthy" not in render_html(_fdg_report())


# ------------------------------------------------------------------ figures


def _volumes(ct_z_mm: tuple[float, float]) -> tuple[ImageVolume, ImageVolume]:
    """PET of a 'body' with hot spheres; a CT that covers only ``ct_z_mm`` of it."""
    z, y, x = np.meshgrid(
        np.arange(40) * 4.0 - 120,
        np.arange(51) * 4.0 - 100,
        np.arange(51) * 4.0 - 100,
        indexing="ij",
    )
    suv = np.where((x**2 + y**2) < 80.0**2, 1.0, 0.0)
    for lid in range(1, 15):
        c = (10.0 * lid - 60.0, 0.0, 40.0 - 30.0 * lid)
        suv[((x - c[0]) ** 2 + (y - c[1]) ** 2 + (z - c[2]) ** 2) < 8.0**2] = 8.0
    pet = ImageVolume(
        array=suv,
        affine=affine_from_spacing((4, 4, 4), origin_mm=(-100, -100, -120)),
        unit=Unit.SUV_BW,
    )
    n = int((ct_z_mm[1] - ct_z_mm[0]) / 4) + 1
    ct = ImageVolume(
        array=np.full((n, 51, 51), 40.0),
        affine=affine_from_spacing((4, 4, 4), origin_mm=(-100, -100, ct_z_mm[0])),
        unit=Unit.HU,
    )
    return pet, ct


def test_mip_numbers_only_the_targets() -> None:
    pet, _ = _volumes((-120, 36))
    lesions = _fdg_report().lesions
    targets = select_target_lesions(lesions)
    numbered = [LesionMarker(id=i, centroid_mm=lesions[i - 1].centroid_mm) for i in targets]
    others = [
        LesionMarker(id=les.id, centroid_mm=les.centroid_mm)
        for les in lesions
        if les.id not in targets
    ]
    fig = mip_figure(pet, numbered, others=others)
    ax = fig.axes[0]
    labels = sorted(int(t.get_text()) for t in ax.texts)
    assert labels == sorted(targets)
    assert len(labels) == 10 < len(lesions)
    # The other four are drawn, as unlabelled marks.
    assert (
        sum(len(c.get_offsets()) for c in ax.collections if c.get_label() == "other lesions") == 4
    )


def _dark_fraction(png: bytes) -> float:
    image: npt.NDArray[np.float64] = mpimg.imread(io.BytesIO(png), format="png")
    left = image[:, : image.shape[1] // 3, :3]
    return float(np.mean(left.mean(axis=2) < 0.1))


def test_lesion_outside_the_ct_gets_a_note_not_a_black_panel() -> None:
    pet, ct = _volumes((-120.0, -60.0))  # CT ends 80 mm below lesion 1 (z = 10 mm)
    marker = LesionMarker(id=1, centroid_mm=(-50.0, 0.0, 10.0))
    fig = lesion_figure(pet, ct, marker)
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "No CT at this level" in texts
    assert "-120 to -60 mm" in texts
    # Pixels: the CT panel is a light note, not black (the old panel was all -1000 HU).
    assert _dark_fraction(render_lesion_png(pet, ct, marker)) < 0.05
    # Inside the CT, the CT is drawn (no note).
    inside = lesion_figure(pet, ct, LesionMarker(id=1, centroid_mm=(-50.0, 0.0, -80.0)))
    assert not inside.axes[0].texts


def test_pet_only_lesion_view_says_there_is_no_ct() -> None:
    pet, _ = _volumes((-120, 36))
    fig = lesion_figure(pet, None, LesionMarker(id=1, centroid_mm=(-50.0, 0.0, 10.0)))
    assert "No CT in this study" in " ".join(t.get_text() for t in fig.axes[0].texts)


# ------------------------------------------------------------------ rendered by real tools


def _figures(report: Report) -> ReportFigures:
    pet, ct = _volumes((-120.0, -60.0))
    ids = select_target_lesions(report.lesions)
    by_id = {les.id: les for les in report.lesions}
    numbered = [LesionMarker(id=i, centroid_mm=by_id[i].centroid_mm) for i in ids]
    others = [
        LesionMarker(id=les.id, centroid_mm=les.centroid_mm)
        for les in report.lesions
        if les.id not in ids
    ]
    return ReportFigures(
        mip_png=render_mip_png(pet, numbered, others=others),
        lesion_pngs={m.id: render_lesion_png(pet, ct, m) for m in numbered[:2]},
    )


def test_pdf_as_rendered_reads_in_report_order(tmp_path: Path) -> None:
    if shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None:
        pytest.fail("pdftoppm/pdftotext missing: install poppler-utils (.ci/run does).")
    flag = "14 candidates in the liver."
    report = _fdg_report(implausible=(flag,))
    pdf = tmp_path / "report.pdf"
    write_pdf(dataclasses.replace(report, figures=_figures(report)), pdf)
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True, timeout=60
    ).stdout.decode()
    order = [
        "Analysis not trustworthy",
        "Impression",
        "Technique",
        "Findings by body region",
        "Target candidates",
        "Appendix",
        "All candidates",
        "SUV provenance",
    ]
    positions = _text_order(text, order)
    assert positions == sorted(positions), positions
    first_page = text.split("\f", 1)[0]
    assert "Analysis not trustworthy" in first_page
    assert "John Doe" in first_page
    assert "31 Jan 2024" in first_page
    assert "Krenning" not in text
    subprocess.run(
        ["pdftoppm", "-r", "30", "-f", "1", "-l", "1", "-png", str(pdf), str(tmp_path / "p")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    page = mpimg.imread(next(tmp_path.glob("p-*.png")))
    # The banner is drawn: reddish pixels in the upper third of page 1.
    top = page[: page.shape[0] // 3, :, :3]
    assert np.any((top[..., 0] > 0.6) & (top[..., 1] < 0.3) & (top[..., 2] < 0.3))


def test_patient_id_once_when_the_name_is_the_id() -> None:
    # De-identified studies (TCIA) store the ID as the name: "X (ID X)" says it twice.
    header = dataclasses.replace(_header("fdg"), patient_name="ACRIN-042", patient_id="ACRIN-042")
    assert build_view(_fdg_report(header=header)).patient == "ID ACRIN-042"
    assert build_view(_fdg_report()).patient == "John Doe (ID P7)"


LONG_SITE = "neck / supraclavicular, right (cervical nodal stations)"


def test_pdf_text_stays_inside_the_right_margin(tmp_path: Path) -> None:
    """The ACRIN header line (long ID and tracer) and long site words, as rendered."""
    if shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None:
        pytest.fail("pdftoppm/pdftotext missing: install poppler-utils (.ci/run does).")
    header = dataclasses.replace(
        _header("sstr"),  # the widest tables: Krenning and SSTR-RADS columns too
        patient_name="ACRIN-NSCLC-FDG-PET-042",
        patient_id="ACRIN-NSCLC-FDG-PET-042",
        tracer="FDG -- fluorodeoxyglucose (FDG), Fludeoxyglucose F18 Injection",
    )
    lesions = tuple(
        dataclasses.replace(
            _lesion(i, 40.0 - i, 1234.5 + i, krenning=3),
            site=LONG_SITE
            if i % 2
            else "mediastinum / hilum (mediastinal and hilar nodal stations)",
            sstr_rads="SSTR-RADS 5",
        )
        for i in range(1, 13)
    )
    report = dataclasses.replace(_sstr_report(), header=header, lesions=lesions)
    pdf = tmp_path / "report.pdf"
    write_pdf(report, pdf)
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True, timeout=60
    ).stdout.decode()
    first_page = text.split("\f", 1)[0]
    assert "ID ACRIN-NSCLC-FDG-PET-042" in first_page
    assert "(ID ACRIN" not in first_page
    assert "Fludeoxyglucose F18 Injection" in first_page
    # Site words are wrapped whole, never cut inside a word ("supra" / "clavicular,").
    appendix = text[text.index("All lesions (12)") :]
    assert "supraclavicular," in appendix
    assert "(mediastinal" in appendix
    subprocess.run(
        ["pdftoppm", "-r", "40", "-gray", "-png", str(pdf), str(tmp_path / "p")],
        check=True,
        capture_output=True,
        timeout=60,
    )
    pages = sorted(tmp_path.glob("p-*.png"))
    assert len(pages) >= 3
    for page_png in pages:
        page = mpimg.imread(page_png)
        # Text and tables end at the 6 % right margin; nothing dark in the outer 4 %.
        edge = page[:, int(0.96 * page.shape[1]) :]
        assert edge.min() > 0.9, f"{page_png.name}: ink beyond the right margin"


def test_html_as_rendered_by_chromium_shows_the_banner_first(tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.fail("chromium missing: install the Debian package chromium (.ci/run does).")
    flag = "14 candidates in the liver."
    report = _fdg_report(implausible=(flag,))
    page = tmp_path / "report.html"
    page.write_text(render_html(dataclasses.replace(report, figures=_figures(report))))
    shot = tmp_path / "shot.png"
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1100,1400",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    image = mpimg.imread(shot)[..., :3]
    assert image.shape[:2] == (1400, 1100)
    # The banner (red frame on pale red) lies in the top 400 px, above everything else.
    top = image[:400]
    red = (top[..., 0] > 0.6) & (top[..., 1] < 0.2) & (top[..., 2] < 0.2)
    assert red.sum() > 500
    assert float(image.std()) > 0.05


def test_new_report_fields_survive_the_result_round_trip() -> None:
    from nenscope.pipeline.serialize import from_plain, to_plain

    report = _fdg_report(
        implausible=("more than 30 candidates",),
        anatomy=(("liver", "CT"), ("brain", "PET only")),
        target_ids=(2, 1),
        prrt="not assessable",
    )
    assert from_plain(to_plain(report), Report) == report
