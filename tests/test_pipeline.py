"""analyze_study on generated PET/CT studies with known truth (dicom.synthetic).

Truth comes from the phantom generator: painted lesion and organ SUVs and voxel-exact lesion
volumes on the PET grid. The main cases run the pipeline fully automatically (reference regions
and lesion detection); the seed tests click the truth lesion centres as a reader would.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
import pytest

from nenscope.dicom.seg_sr import read_seg, read_sr
from nenscope.dicom.synthetic import PhantomSettings, PhantomTruth, write_phantom_study
from nenscope.pipeline import AnalysisOptions, AnalysisResult, analyze_study
from nenscope.scoring.krenning import KrenningReferences, krenning_score
from nenscope.segmentation import DetectionSettings, ThresholdMethod

REFERENCE_ORGANS = {"liver": "liver", "spleen": "spleen", "blood_pool": "aorta"}


@dataclass(frozen=True)
class Case:
    name: str
    seed: int
    size: str
    fwhm_mm: float
    noise: float


CASES = (
    Case("sharp", seed=1, size="small", fwhm_mm=0.0, noise=0.05),
    Case("blurred", seed=2, size="small", fwhm_mm=6.0, noise=0.1),
    Case("whole-body", seed=4, size="default", fwhm_mm=5.0, noise=0.1),
)


def _seed_options(truth: PhantomTruth, lesion_ids: Sequence[str]) -> AnalysisOptions:
    points = {ref: truth.organ(organ).point_mm for ref, organ in REFERENCE_ORGANS.items()}
    return AnalysisOptions(
        auto_detect=False,
        lesion_seeds_mm=tuple(truth.lesion(i).centre_mm for i in lesion_ids),
        reference_points_mm=points,
        figures=False,
        pdf=False,
    )


@pytest.fixture(scope="module", params=CASES, ids=lambda c: c.name)
def analysed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Case, PhantomTruth, AnalysisResult, Path]:
    case: Case = request.param
    root = tmp_path_factory.mktemp(case.name)
    settings = PhantomSettings(
        size=case.size, seed=case.seed, fwhm_mm=case.fwhm_mm, noise=case.noise
    )
    truth = write_phantom_study(root / "study", settings)
    out = root / "out"
    result = analyze_study(
        root / "study",
        out,
        AnalysisOptions(figures=case.name == "sharp", pdf=case.name == "sharp"),
    )
    return case, truth, result, out


def _match(result: AnalysisResult, truth: PhantomTruth) -> dict[str, int]:
    """Truth lesion id → reported lesion id (nearest centroid within the lesion radius)."""
    out: dict[str, int] = {}
    for les in truth.lesions:
        dist = [
            np.linalg.norm(np.subtract(r.centroid_mm, les.centre_mm))
            for r in result.report.lesions
        ]
        if dist and min(dist) <= les.diameter_mm / 2.0:
            out[les.lesion_id] = result.report.lesions[int(np.argmin(dist))].id
    return out


def test_analysis_is_complete(analysed: tuple[Case, PhantomTruth, AnalysisResult, Path]) -> None:
    _, _, result, out = analysed
    assert result.errors == ()
    for name in ("lesions.json", "lesions.csv", "report.json", "report.html", "seg.dcm", "sr.dcm"):
        assert (out / name).is_file(), name


def test_every_lesion_of_1ml_found(
    analysed: tuple[Case, PhantomTruth, AnalysisResult, Path],
) -> None:
    _, truth, result, _ = analysed
    matched = _match(result, truth)
    big = [les.lesion_id for les in truth.lesions if les.volume_ml >= 1.0]
    assert sorted(set(big) - set(matched)) == []


def test_no_organ_reported_as_lesion(
    analysed: tuple[Case, PhantomTruth, AnalysisResult, Path],
) -> None:
    _, truth, result, _ = analysed
    matched = set(_match(result, truth).values())
    extra = [
        (les.id, les.site, les.centroid_mm)
        for les in result.report.lesions
        if les.id not in matched
    ]
    assert extra == []


def test_suvmax_exact_without_blur(
    analysed: tuple[Case, PhantomTruth, AnalysisResult, Path],
) -> None:
    case, truth, result, _ = analysed
    if case.fwhm_mm > 0:
        pytest.skip("without blur only: a blurred lesion's hottest voxel may lie outside it")
    matched = _match(result, truth)
    for les in truth.lesions:
        if les.lesion_id in matched:
            got = result.report.lesions[matched[les.lesion_id] - 1].value("suvmax")
            assert got is not None
            # Truth: the generator's maximum over the lesion's voxels of the written image
            # (with noise); int16 storage with a per-slice slope quantises it by < 1e-4 of the
            # slice maximum, hence rtol 1e-4.
            np.testing.assert_allclose(got, les.suvmax_written, rtol=1e-4, err_msg=les.lesion_id)


def test_volume_within_10_percent_for_5ml(
    analysed: tuple[Case, PhantomTruth, AnalysisResult, Path],
) -> None:
    _, truth, result, _ = analysed
    matched = _match(result, truth)
    checked = 0
    for les in truth.lesions:
        if les.volume_ml >= 5.0:
            got = result.report.lesions[matched[les.lesion_id] - 1].value("volume_ml")
            assert got is not None
            # Truth: voxel count of the painted sphere on the PET grid (generator's truth).
            np.testing.assert_allclose(got, les.volume_ml, rtol=0.10, err_msg=les.lesion_id)
            checked += 1
    assert checked >= 2


def test_reference_means_within_5_percent(
    analysed: tuple[Case, PhantomTruth, AnalysisResult, Path],
) -> None:
    _, truth, result, _ = analysed
    for ref, organ in REFERENCE_ORGANS.items():
        np.testing.assert_allclose(
            result.references[ref].mean, truth.organ(organ).suv_mean, rtol=0.05, err_msg=ref
        )


def test_krenning_scores_match_truth(
    analysed: tuple[Case, PhantomTruth, AnalysisResult, Path],
) -> None:
    case, truth, result, _ = analysed
    refs = KrenningReferences(
        liver_mean=truth.organ("liver").suv_mean, spleen_mean=truth.organ("spleen").suv_mean
    )
    matched = _match(result, truth)
    # Expected grade: painted lesion SUV against painted organ SUVs. Blur lowers the SUVmax
    # of small lesions (partial volume), so blurred studies are checked on lesions >= 5 mL.
    min_ml = 5.0 if case.fwhm_mm > 0 else 0.0
    for les in truth.lesions:
        if les.lesion_id in matched and les.volume_ml >= min_ml:
            expected = krenning_score(les.suvmax, refs)
            got = result.report.lesions[matched[les.lesion_id] - 1].krenning
            assert got == expected, les.lesion_id
    patient = next(s for s in result.report.scores if s.name == "Krenning (patient)")
    assert patient.value == "4"  # the phantom has lesions above spleen uptake (SUV 30, 45)


def test_lesions_json_matches_report_and_sr(
    analysed: tuple[Case, PhantomTruth, AnalysisResult, Path],
) -> None:
    _, _, result, out = analysed
    data = json.loads((out / "lesions.json").read_text())
    assert [d["id"] for d in data] == [les.id for les in result.report.lesions]
    groups = {g.segment_number: g for g in read_sr(out / "sr.dcm")}
    for item in data:
        group = groups[item["id"]]
        for key in ("suvmax", "suvpeak", "suvmean", "volume_ml", "tlg"):
            # DS holds 16 characters: relative round-trip error below 1e-12 for these values.
            np.testing.assert_allclose(getattr(group, key), item[key], rtol=1e-12, err_msg=key)
        assert group.krenning == item["krenning"]


def test_seg_holds_the_lesion_label_map(
    analysed: tuple[Case, PhantomTruth, AnalysisResult, Path],
) -> None:
    _, _, result, out = analysed
    assert result.study is not None
    assert result.labels is not None
    uids = [str(h.SOPInstanceUID) for h in result.study.pet.headers]
    labels, names = read_seg(out / "seg.dcm", uids)
    n = len(result.report.lesions)
    np.testing.assert_array_equal(np.where(labels <= n, labels, 0), result.labels)
    assert names[1] == "Lesion 1"
    assert {names[k] for k in range(n + 1, len(names) + 1)} == {
        "liver reference",
        "spleen reference",
        "blood_pool reference",
    }
    seg = pydicom.dcmread(out / "seg.dcm", stop_before_pixels=True)
    assert (
        seg.ReferencedSeriesSequence[0].SeriesInstanceUID
        == result.study.pet_ref.series_instance_uid
    )


def test_dicom_outputs_pass_dciodvfy(
    analysed: tuple[Case, PhantomTruth, AnalysisResult, Path],
) -> None:
    case, _, _, out = analysed
    if case.name != "sharp":
        pytest.skip("validated once, on the sharp case")
    if shutil.which("dciodvfy") is None:
        pytest.fail("dciodvfy missing: install dicom3tools (.ci/run does).")
    for name in ("seg.dcm", "sr.dcm"):
        run = subprocess.run(
            ["dciodvfy", str(out / name)], capture_output=True, text=True, timeout=300
        )
        errors = [
            line for line in (run.stdout + run.stderr).splitlines() if line.startswith("Error")
        ]
        assert not errors, f"{name}: {errors}"


def test_report_pdf_shows_the_analysis(
    analysed: tuple[Case, PhantomTruth, AnalysisResult, Path],
) -> None:
    case, truth, result, out = analysed
    if case.name != "sharp":
        pytest.skip("rendered once, on the sharp case")
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext missing: install poppler-utils (.ci/run does).")
    text = subprocess.run(
        ["pdftotext", str(out / "report.pdf"), "-"], capture_output=True, check=True, timeout=120
    ).stdout.decode()
    assert truth.settings.sex in ("M", "F", "O")
    positions = [
        text.index(needle)
        for needle in (
            "Impression",
            "Technique",
            "Findings by body region",
            "Target lesions",
            "Appendix",
            "Reference regions",
            "SUV provenance",
        )
    ]
    assert positions == sorted(positions)
    assert "Krenning (patient): 4" in text.split("Technique", 1)[0]  # in the impression
    assert "Krenning (patient)" in text.split("Appendix", 1)[1]  # with its definition
    html = (out / "report.html").read_text()
    # MIP + one axial view per target lesion (at most 10), all embedded.
    n_targets = min(10, len(result.report.lesions))
    assert html.count("data:image/png;base64,") == 1 + n_targets


@pytest.fixture(scope="module")
def exact_study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PhantomTruth]:
    root = tmp_path_factory.mktemp("seeds")
    truth = write_phantom_study(root / "study", PhantomSettings(size="small", seed=3))
    return root / "study", truth


SEEDED = ("liver-1", "liver-3", "pancreas-1", "node-mesenteric", "node-paraaortic")


def test_seeded_lesions_measured_exactly(
    exact_study: tuple[Path, PhantomTruth], tmp_path: Path
) -> None:
    study, truth = exact_study
    result = analyze_study(study, tmp_path / "out", _seed_options(truth, SEEDED))
    assert result.errors == ()
    assert len(result.report.lesions) == len(SEEDED)
    for lesion_id, entry in zip(SEEDED, result.report.lesions, strict=True):
        les = truth.lesion(lesion_id)
        # No blur, no noise: the 50 % background-corrected contour is the painted sphere, so
        # the voxel count is the generator's; SUVmax within the int16 storage step (1e-4).
        np.testing.assert_allclose(
            entry.value("volume_ml") or 0.0, les.volume_ml, rtol=1e-9, err_msg=lesion_id
        )
        np.testing.assert_allclose(
            entry.value("suvmax") or 0.0, les.suvmax, rtol=1e-4, err_msg=lesion_id
        )
        np.testing.assert_allclose(entry.centroid_mm, les.centre_mm, atol=1.0, err_msg=lesion_id)
        assert "seed at" in entry.detection


def test_seed_in_liver_lesion_at_twice_liver_uptake(
    exact_study: tuple[Path, PhantomTruth], tmp_path: Path
) -> None:
    # liver-2 (SUV 14 in liver 7): the contour must stop at the lesion, not grow into the
    # liver and on to the hottest liver lesion.
    study, truth = exact_study
    result = analyze_study(study, tmp_path / "out", _seed_options(truth, ("liver-2",)))
    assert result.errors == ()
    assert len(result.report.lesions) == 1
    np.testing.assert_allclose(
        result.report.lesions[0].value("volume_ml") or 0.0,
        truth.lesion("liver-2").volume_ml,
        rtol=1e-9,
    )


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        # PERCIST liver: 1.5 x 7 + 2 x 0 (noise-free liver) = 10.5 SUV: every painted lesion
        # above it (SUV 45, 30, 30, 28, 14, 11) but not the SUV-4 mesenteric node.
        # The right kidney (SUV 13) touches the liver: it must not grow into the liver zone
        # and be reported as a 237 mL liver lesion (it is dropped as a > 100 mL organ).
        (
            "percist-liver",
            {"liver-1", "liver-2", "liver-3", "pancreas-1", "node-paraaortic", "bone-1"},
        ),
        # 40 % of the image SUVmax outside the spleen (45, liver-1) = 18 SUV.
        ("percent-max", {"liver-1", "liver-3", "pancreas-1", "bone-1"}),
        # Fixed SUV 2.5 (default): every lesion.
        (
            "fixed",
            {
                "liver-1",
                "liver-2",
                "liver-3",
                "pancreas-1",
                "node-mesenteric",
                "node-paraaortic",
                "bone-1",
            },
        ),
    ],
)
def test_threshold_methods(
    exact_study: tuple[Path, PhantomTruth], tmp_path: Path, method: str, expected: set[str]
) -> None:
    study, truth = exact_study
    detection = DetectionSettings(method=ThresholdMethod(method), percent_of_max=40.0)
    result = analyze_study(
        study,
        tmp_path,
        AnalysisOptions(detection=detection, figures=False, pdf=False, dicom_outputs=False),
    )
    assert set(_match(result, truth)) == expected
    assert len(result.report.lesions) == len(expected)


def test_seg_output_reads_back_as_lesion_masks(
    analysed: tuple[Case, PhantomTruth, AnalysisResult, Path], tmp_path: Path
) -> None:
    case, _, result, out = analysed
    if case.name != "sharp":
        pytest.skip("checked once, on the sharp case")
    # Our seg.dcm as --lesion-mask input (read by nenscope.dicom.read_mask, not by seg_sr):
    # the same voxels give the same numbers.
    names = tuple(f"Lesion {les.id}" for les in result.report.lesions)
    again = analyze_study(
        out.parent / "study",
        tmp_path,
        AnalysisOptions(
            auto_detect=False,
            lesion_masks=(out / "seg.dcm",),
            lesion_rois=names,
            figures=False,
            pdf=False,
            dicom_outputs=False,
        ),
    )
    assert again.errors == ()
    assert len(again.report.lesions) == len(result.report.lesions)
    for first, second in zip(result.report.lesions, again.report.lesions, strict=True):
        for key in ("volume_ml", "suvmax", "suvpeak", "suvmean", "tlg"):
            np.testing.assert_allclose(
                second.value(key) or 0.0,
                first.value(key) or 0.0,
                rtol=1e-12,
                err_msg=f"lesion {first.id} {key}",
            )


def test_lesion_numbers_are_compacted() -> None:
    from nenscope.pipeline.analysis import _compact, _LesionMasks

    labels = np.zeros((2, 3, 3), dtype=np.uint16)
    labels[0, 0, 0], labels[1, 2, 2] = 2, 5
    masks = _LesionMasks(
        labels=labels, detection=("a", "b", "c", "d", "e"), notes=(), warnings=(), errors=()
    )
    out = _compact(masks)
    # Labels 2 and 5 become 1 and 2, and their delineation texts follow them.
    assert sorted(np.unique(out.labels).tolist()) == [0, 1, 2]
    assert (out.labels[0, 0, 0], out.labels[1, 2, 2]) == (1, 2)
    assert out.detection == ("b", "e")


def test_non_finite_measure_is_not_computable() -> None:
    from nenscope.pipeline.report import _quantity

    q = _quantity(float("nan"), "mm", "longest diameter")
    assert q.value is None
    assert q.reason is not None
    assert "not computable" in q.reason


def test_tumour_burden_sums_the_lesions(
    analysed: tuple[Case, PhantomTruth, AnalysisResult, Path],
) -> None:
    _, _, result, _ = analysed
    entry = next(s for s in result.report.scores if s.name == "Whole-body tumour burden")
    total = sum(les.value("volume_ml") or 0.0 for les in result.report.lesions)
    uptake = sum(les.value("tlg") or 0.0 for les in result.report.lesions)
    # Printed with one decimal.
    assert entry.value == f"{total:.1f} mL; total lesion uptake {uptake:.1f} g"


def test_load_study_parses_each_header_once(
    exact_study: tuple[Path, PhantomTruth], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Discovery keeps the headers it parsed and the series reader reuses them (benchmark: the
    # 1200 headers of a clinical PET/CT were parsed twice).
    import nenscope.dicom.discovery as discovery
    import nenscope.dicom.series as series
    from nenscope.pipeline import load_study

    study, _ = exact_study
    parsed: list[Path] = []
    original = discovery.read_header

    def counting(path: Path) -> object:
        parsed.append(path)
        return original(path)

    monkeypatch.setattr(discovery, "read_header", counting)
    monkeypatch.setattr(series, "read_header", counting)
    data = load_study(study)
    assert data.ct is not None
    files = sorted(p for p in study.rglob("*") if p.is_file())
    assert sorted(parsed) == files


def test_normal_pancreas_dropped_but_compact_faint_lesion_kept(tmp_path: Path) -> None:
    # Ga-68 DOTATATE phantom: the normal pancreas (SUV 3.0 > the 2.5 threshold, ~30 mL,
    # ~85 mm long) was reported as a lesion when no lesion sat in it. A compact 14 mL node
    # at SUV 5 (also below the liver's 7) must still be reported.
    from nenscope.quantification.phantom_model import LesionSpec

    lesions = (
        LesionSpec(
            lesion_id="liver-1", centre_mm=(-95.0, -25.0, 60.0), diameter_mm=30.0, suv=45.0,
            site="liver",
        ),
        LesionSpec(
            lesion_id="node", centre_mm=(-20.0, 35.0, -40.0), diameter_mm=30.0, suv=5.0,
            site="lymph-node",
        ),
    )  # fmt: skip
    study = tmp_path / "study"
    write_phantom_study(study, PhantomSettings(size="small", seed=8, lesions=lesions))
    result = analyze_study(
        study, tmp_path / "out", AnalysisOptions(figures=False, pdf=False, dicom_outputs=False)
    )
    found = sorted(round(s.suvmax) for s in result.statistics)
    assert found == [5, 45], [(s.centroid_mm, s.volume_ml, s.suvmax) for s in result.statistics]
    assert any("normal pancreas or bowel" in note for note in result.report.notes)
