"""Re-scoring a stored analysis after a review (pipeline/review.py), on a generated study.

The expected values are computed from the analysis's own measurements (volumes, TLG, SUVmax
against the reference means) with the scoring functions' definitions, not read back from the
function under test.
"""

from __future__ import annotations

import csv
import dataclasses
import gc
import json
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest

from nenscope.core.errors import GeometryError, OptionError
from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study
from nenscope.pipeline import AnalysisOptions, AnalysisResult, analyze, write_outputs
from nenscope.pipeline.review import (
    AddedLesion,
    LesionDecision,
    ReviewState,
    measure_reference,
    review_analysis,
    review_figures,
)
from nenscope.pipeline.scores import SstrRadsInputs
from nenscope.scoring.krenning import KrenningReferences, krenning_score


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> AnalysisResult:
    folder = tmp_path_factory.mktemp("review") / "study"
    write_phantom_study(folder, PhantomSettings(size="small"))
    return analyze(folder, AnalysisOptions(figures=False))


@pytest.fixture(scope="module")
def stored(analysed: AnalysisResult) -> AnalysisResult:
    """The result as the service keeps it: JSON, restored without the study."""
    return AnalysisResult.from_dict(json.loads(json.dumps(analysed.to_dict())))


def _score(result: AnalysisResult, name: str) -> str:
    return next(s.value for s in result.report.scores if s.name == name)


def _burden(result: AnalysisResult) -> str:
    return _score(result, "Whole-body tumour burden")


def test_no_review_keeps_the_analysis(stored: AnalysisResult) -> None:
    reviewed = review_analysis(stored, ReviewState())
    assert len(stored.report.lesions) >= 3
    assert reviewed.result.report.scores == stored.report.scores
    assert [e.krenning for e in reviewed.result.report.lesions] == [
        e.krenning for e in stored.report.lesions
    ]
    assert reviewed.report_ids == {i: i for i in range(1, len(stored.report.lesions) + 1)}
    assert np.array_equal(reviewed.result.labels, stored.labels)  # type: ignore[arg-type]


def test_rejected_lesion_leaves_table_scores_totals_and_labels(stored: AnalysisResult) -> None:
    hottest = max(stored.statistics, key=lambda s: s.suvmax)
    rid = hottest.label
    review = ReviewState(decisions={rid: LesionDecision(status="rejected", by="dr-who")})
    reviewed = review_analysis(stored, review)
    result = reviewed.result
    n = len(stored.statistics)
    assert [e.id for e in result.report.lesions] == list(range(1, n))
    assert rid not in reviewed.report_ids
    kept = [s for s in stored.statistics if s.label != rid]
    volume = sum(s.volume_ml for s in kept)
    tlg = sum(s.tlg for s in kept)
    assert _burden(result) == f"{volume:.1f} mL; total lesion uptake {tlg:.1f} g"
    assert _burden(result) != _burden(stored)
    # Labels: the rejected lesion's voxels are background, the others renumbered 1..n-1.
    assert result.labels is not None
    assert stored.labels is not None
    assert not result.labels[stored.labels == rid].any()
    for old, new in reviewed.report_ids.items():
        assert np.array_equal(result.labels == new, stored.labels == old)
    # The reader is named, and the rejected lesion is said to be left out.
    assert any("rejected by dr-who" in note for note in result.report.notes)
    # SSTR-RADS targets: the 5 hottest of the kept lesions.
    rads = next(s for s in result.report.scores if s.name == "SSTR-RADS 1.0")
    assert rads.details.count("lesion ") == min(5, n - 1)


def test_added_lesion_counts(stored: AnalysisResult) -> None:
    assert stored.labels is not None
    rid = 1
    mask = stored.labels == rid
    stats = stored.statistics[rid - 1]
    n = len(stored.statistics)
    # Reject lesion 1 and add the same region back as a reader's lesion: the totals return.
    review = ReviewState(
        decisions={rid: LesionDecision(status="rejected", by="doc")},
        added=(AddedLesion(id=n + 1, mask=mask, statistics=stats, detection="seed", by="doc"),),
    )
    reviewed = review_analysis(stored, review)
    assert reviewed.report_ids[n + 1] == n
    assert _burden(reviewed.result) == _burden(stored)
    last = reviewed.result.report.lesions[-1]
    assert "added by doc" in last.detection
    assert last.krenning == stored.report.lesions[0].krenning
    assert reviewed.result.labels is not None
    assert np.array_equal(reviewed.result.labels == n, mask)
    with pytest.raises(OptionError, match="above the analysis"):
        review_analysis(
            stored,
            ReviewState(added=(AddedLesion(id=2, mask=mask, statistics=stats, detection="x"),)),
        )


def test_all_rejected(stored: AnalysisResult) -> None:
    n = len(stored.statistics)
    everything = {i: LesionDecision(status="rejected") for i in range(1, n + 1)}
    result = review_analysis(stored, ReviewState(decisions=everything)).result
    assert result.report.lesions == ()
    assert _score(result, "SSTR-RADS 1.0") == "no lesion"
    assert all(s.name != "Whole-body tumour burden" for s in result.report.scores)


def test_moved_liver_regrades_krenning(analysed: AnalysisResult, stored: AnalysisResult) -> None:
    assert analysed.study is not None
    spleen = stored.references["spleen"]
    liver_lesion = min(
        (s for s in stored.statistics if s.organ == "liver"), key=lambda s: s.suvmax
    )
    # The liver region put over a liver lesion: its mean rises, the grades follow.
    moved = measure_reference(analysed.study.suv, "liver", liver_lesion.centroid_mm)
    assert stored.references["liver"].mean < moved.mean < spleen.mean
    reviewed = review_analysis(
        stored, ReviewState(references={"liver": moved}, references_by={"liver": "doc"})
    )
    blood = stored.references["blood_pool"]
    refs = KrenningReferences(
        liver_mean=moved.mean, spleen_mean=spleen.mean, background_mean=blood.mean
    )
    expected = [krenning_score(s.suvmax, refs) for s in stored.statistics]
    assert [e.krenning for e in reviewed.result.report.lesions] == expected
    assert expected != [e.krenning for e in stored.report.lesions]
    liver = next(r for r in reviewed.result.report.references if r.name == "liver")
    assert liver.mean.value == pytest.approx(moved.mean)
    first = reviewed.statistics[1]
    assert first.lesion_to_liver == pytest.approx(first.suvmax / moved.mean)
    assert any("liver reference moved by doc" in n for n in reviewed.result.report.notes)
    # On the spleen the liver reference is no longer below the spleen: Krenning says why.
    on_spleen = measure_reference(analysed.study.suv, "liver", spleen.centre_mm)
    odd = review_analysis(stored, ReviewState(references={"liver": on_spleen})).result
    krenning = next(s for s in odd.report.scores if s.name == "Krenning (patient)")
    assert krenning.value == "not computable"
    assert "reference regions not usable" in krenning.details


def test_reference_outside_image_or_body(analysed: AnalysisResult) -> None:
    assert analysed.study is not None
    suv = analysed.study.suv
    outside = r"\(9999, 0, 0\) mm lies outside the PET image: x 9999"
    with pytest.raises(GeometryError, match=outside):
        measure_reference(suv, "liver", (9999.0, 0.0, 0.0))
    corner = suv.index_to_lps([[2, 2, 2]])[0]
    with pytest.raises(GeometryError, match="outside the body"):
        measure_reference(suv, "spleen", tuple(corner))
    with pytest.raises(OptionError, match="radius_mm 100 is outside"):
        measure_reference(suv, "liver", (0.0, 0.0, 0.0), radius_mm=100.0)
    with pytest.raises(OptionError, match="Unknown reference region 'kidney'"):
        measure_reference(suv, "kidney", (0.0, 0.0, 0.0))


def test_sstr_rads_inputs_by_review_id(stored: AnalysisResult) -> None:
    hottest = max(stored.statistics, key=lambda s: s.suvmax).label
    other = next(s.label for s in stored.statistics if s.label != hottest and s.suvmax > 20)
    inputs = SstrRadsInputs(anatomy={other: "suspicious"})
    review = ReviewState(decisions={hottest: LesionDecision(status="rejected")}, sstr_rads=inputs)
    reviewed = review_analysis(stored, review)
    number = reviewed.report_ids[other]
    entry = reviewed.result.report.lesions[number - 1]
    # Intense uptake at a typical site with an anatomic correlate: SSTR-RADS 5.
    assert entry.sstr_rads == "5"
    assert _score(reviewed.result, "SSTR-RADS 1.0") == "SSTR-RADS-5"
    assert _score(stored, "SSTR-RADS 1.0") == "SSTR-RADS-4"


def test_reviewed_outputs_seg_holds_reviewed_segments(
    analysed: AnalysisResult, stored: AnalysisResult, tmp_path: Path
) -> None:
    assert analysed.study is not None
    assert stored.labels is not None
    n = len(stored.statistics)
    review = ReviewState(
        decisions={1: LesionDecision(status="rejected"), 2: LesionDecision(status="confirmed")},
        added=(
            AddedLesion(
                id=n + 1,
                mask=stored.labels == 1,
                statistics=stored.statistics[0],
                detection="seed",
            ),
        ),
    )
    with_study = dataclasses.replace(stored, study=analysed.study)
    reviewed = review_analysis(with_study, review).result
    figures = review_figures(reviewed.report, analysed.study.suv, reviewed.labels)
    assert figures.mip_png is not None
    assert figures.mip_png.startswith(b"\x89PNG")
    written = write_outputs(reviewed, tmp_path / "out")
    seg = pydicom.dcmread(written.files["seg"])
    lesions = [s for s in seg.SegmentSequence if str(s.SegmentLabel).startswith("Lesion")]
    assert len(lesions) == n  # n - 1 kept + 1 added
    html = written.files["report_html"].read_text(encoding="utf-8")
    assert "rejected" in html
    assert "added" in html
    # Without the study (as stored): report files, no SEG/SR.
    plain = write_outputs(review_analysis(stored, review).result, tmp_path / "plain")
    assert "seg" not in plain.files
    assert "report_html" in plain.files


def test_reader_decisions_are_written_in_every_output(
    stored: AnalysisResult, tmp_path: Path
) -> None:
    """Each lesion of a reviewed result says: not reviewed, confirmed by whom, added by whom."""
    assert stored.labels is not None
    n = len(stored.statistics)
    assert n >= 3
    review = ReviewState(
        decisions={
            1: LesionDecision(status="rejected", by="dr-a"),
            2: LesionDecision(status="confirmed", by="dr-a"),
        },
        added=(
            AddedLesion(
                id=n + 1,
                mask=stored.labels == 1,
                statistics=stored.statistics[0],
                detection="seed",
                by="dr-b",
            ),
        ),
    )
    reviewed = review_analysis(stored, review)
    result = reviewed.result
    # Report lesion 1 = analysis lesion 2 (confirmed), 2..n-1 = analysis 3..n (not reviewed),
    # n = the added one.
    kinds = [(e.review.kind, e.review.by) for e in result.report.lesions if e.review]
    assert kinds == [
        ("confirmed", "dr-a"),
        *[("candidate", "")] * (n - 2),
        ("added", "dr-b"),
    ]
    # The decision survives the service's JSON round trip.
    again = AnalysisResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert again.report.lesions == result.report.lesions
    written = write_outputs(result, tmp_path / "out")
    lesions = json.loads(written.files["lesions_json"].read_text(encoding="utf-8"))
    assert [(les["status"], les["reviewed_by"], les["added_by_reader"]) for les in lesions] == [
        ("confirmed", "dr-a", False),
        *[("candidate", None, False)] * (n - 2),
        ("confirmed", "dr-b", True),
    ]
    report = json.loads(written.files["report_json"].read_text(encoding="utf-8"))
    assert [les["status"] for les in report["lesions"]] == [les["status"] for les in lesions]
    assert report["lesions"][-1]["reviewed_by"] == "dr-b"
    with written.files["lesions_csv"].open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    header = list(rows[0])
    at = header.index("status")
    assert header[at : at + 3] == ["status", "reviewed_by", "added_by_reader"]
    cells = [(r["status"], r["reviewed_by"], r["added_by_reader"]) for r in rows]
    assert cells[0] == ("confirmed", "dr-a", "no")
    assert cells[-1] == ("confirmed", "dr-b", "yes")
    html = written.files["report_html"].read_text(encoding="utf-8")
    assert "<th>Review</th>" in html
    for mark in ("\u2713", "+", "?"):
        assert f"<td>{mark}</td>" in html
    assert (
        "Review: \u2713 confirmed by the reader (dr-a); + added by the reader (dr-b); "
        "? automatic candidate, not reviewed (counted)." in html
    )


def test_automatic_analysis_outputs_carry_no_review_fields(
    stored: AnalysisResult, tmp_path: Path
) -> None:
    assert all(e.review is None for e in stored.report.lesions)
    written = write_outputs(stored, tmp_path / "auto")
    lesions = json.loads(written.files["lesions_json"].read_text(encoding="utf-8"))
    assert lesions
    assert not {"status", "reviewed_by", "added_by_reader"} & set(lesions[0])
    assert "status" not in written.files["lesions_csv"].read_text(encoding="utf-8").split("\n")[0]
    assert "<th>Review</th>" not in written.files["report_html"].read_text(encoding="utf-8")


def test_pdf_written_with_the_collector_paused(
    stored: AnalysisResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 10 item 6: the PDF (matplotlib) is laid out without cycle collections walking
    the analysis's objects; the collector is restored afterwards."""
    from nenscope.pipeline import outputs

    seen: list[bool] = []
    write_pdf = outputs.write_pdf

    def spy(*args: Any, **kwargs: Any) -> None:
        seen.append(gc.isenabled())
        write_pdf(*args, **kwargs)

    monkeypatch.setattr(outputs, "write_pdf", spy)
    assert gc.isenabled()
    written = write_outputs(
        dataclasses.replace(stored, options=dataclasses.replace(stored.options, pdf=True)),
        tmp_path / "pdf",
    )
    assert seen == [False]
    assert gc.isenabled()
    assert written.files["report_pdf"].read_bytes().startswith(b"%PDF")
