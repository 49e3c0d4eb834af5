"""The DESIGN.md output contracts, end to end through the CLI, as an outside check would run them.

Sources of the expected values:
- exam ids: DESIGN.md "Canonical exam ids";
- SUV: ``shared/data/dicom/tcia-sts-001-ge-petct/README.md`` (QIBA rules, factor 2.42902977e-4
  g/Bq, whole-volume SUVbw max 66.52);
- analyze: the ground truth written by the synthetic study generator (noise-free, so lesion
  voxel values and voxel counts are exact), and the Krenning scale against the phantom's liver
  (SUV 7) and spleen (SUV 22) means;
- radiomics: the IBSI 1 digital-phantom reference values
  (``shared/data/ibsi/ibsi_1_reference_values/ibsi_1_dig_phantom.csv``).
"""

from __future__ import annotations

import csv
import json
import math
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from typer.testing import CliRunner

from nenscope.cli import app
from tests.cli.conftest import TCIA_PET, AnalyzedStudy, RunCli
from tests.conftest import shared_data_path

CANONICAL_EXAMS = frozenset(
    {
        "ct-cap",
        "ct-multiphase",
        "ct-chest",
        "ct-neck-chest",
        "ct-duodenum",
        "ct-enterography",
        "mr-enterography",
        "mri-pancreas",
        "mri-liver-hepatobiliary",
        "mri-liver",
        "mri-noncontrast",
        "mri-pelvis",
        "mri-skeleton",
        "bone-scan",
        "us-neck",
        "eus",
        "endoscopy",
        "asvs",
        "biopsy",
        "ga68-sstr-pet",
        "cu64-sstr-pet",
        "in111-sstr-spect",
        "sstr-antagonist-pet",
        "fdg-pet",
        "fdopa-pet",
        "exendin-pet",
        "exendin-spect",
        "mibg-scan",
        "fapi-pet",
        "cxcr4-pet",
        "cck2r-pet",
        "gipr-imaging",
        "no-imaging",
    }
)
STRENGTHS = frozenset({"recommended", "consider", "investigational"})

SCENARIOS = {
    # A pancreatic G2 NET staged before surgery, every DESIGN field type used once.
    "pancreas-staging.yaml": (
        "question: staging\npresurgical: true\nage_years: 55\nsex: female\nweight_kg: 64\n"
        "height_cm: 166\negfr_ml_min: 90\nprimary_site: pancreas\ntumor_type: net\n"
        "differentiation: well\ngrade: G2\nki67_percent: 8\nsize_cm: 2.5\nsyndrome: none\n"
        "hereditary: none\nmetastatic: true\nmetastatic_sites: [liver]\non_ssa: none\n"
        "prior: {ct-cap: positive}\nfindings: [liver-only]\n"
    ),
    # The same question as JSON, a G3 NEC (FDG territory).
    "nec-staging.json": json.dumps(
        {
            "question": "staging",
            "primary_site": "pancreas",
            "tumor_type": "nec",
            "differentiation": "poor",
            "grade": "G3",
            "ki67_percent": 60,
        }
    ),
    # A pregnant patient: DESIGN says avoid items carry exam + reason.
    "pregnant-insulinoma.yaml": (
        "question: localisation\nsyndrome: insulinoma\nprimary_site: pancreas\n"
        "pregnant: true\ngestational_weeks: 20\nsex: female\nage_years: 31\n"
    ),
}


def _check_plan_contract(data: dict[str, object]) -> None:
    assert set(data) >= {"plan", "avoid", "warnings"}, sorted(data)
    plan, avoid, warnings = data["plan"], data["avoid"], data["warnings"]
    assert isinstance(plan, list)
    assert plan, "an empty plan is not a recommendation"
    assert isinstance(avoid, list)
    assert isinstance(warnings, list)
    assert [item["rank"] for item in plan] == list(range(1, len(plan) + 1))
    for item in plan:
        assert item["exam"] in CANONICAL_EXAMS, item["exam"]
        assert item["strength"] in STRENGTHS, item["strength"]
        assert isinstance(item["rationale"], str)
        assert item["rationale"].strip(), item["exam"]
        assert isinstance(item["evidence"], list)
        assert all(isinstance(e, str) and e for e in item["evidence"])
        for key in ("activity_mbq", "uptake_min", "effective_dose_msv"):
            if key in item:
                assert item[key] is None or item[key] >= 0, (item["exam"], key, item[key])
    for item in avoid:
        assert item["exam"] in CANONICAL_EXAMS, item["exam"]
        assert isinstance(item["reason"], str)
        assert item["reason"].strip(), item["exam"]
    assert len({item["exam"] for item in plan}) == len(plan), "an exam is listed twice"
    both = {item["exam"] for item in plan} & {item["exam"] for item in avoid}
    assert not both, f"exams both planned and avoided: {sorted(both)}"


@pytest.mark.parametrize("name", sorted(SCENARIOS), ids=sorted(SCENARIOS))
def test_recommend_scenario_file_json_contract(
    name: str, tmp_path: Path, nenscope_cli: RunCli
) -> None:
    scenario = tmp_path / name
    scenario.write_text(SCENARIOS[name])
    run = nenscope_cli("recommend", scenario, "--format", "json")
    assert run.exit_code == 0, run.stderr
    data = json.loads(run.stdout)
    _check_plan_contract(data)
    # Every citation the plan gives is resolvable with `nenscope evidence ID`.
    cited = sorted({e for item in data["plan"] for e in item["evidence"]})
    assert cited, "a plan without any citation"
    for citation in cited[:3]:
        shown = nenscope_cli("evidence", citation, "--format", "json")
        assert shown.exit_code == 0, (citation, shown.stderr)


def test_recommend_pregnancy_avoids_ionising_exams(tmp_path: Path, nenscope_cli: RunCli) -> None:
    # clinical-facts: in pregnancy, defer nuclear medicine and abdominal CT, avoid gadolinium;
    # MRI without contrast and (endoscopic) ultrasound remain.
    scenario = tmp_path / "pregnant.yaml"
    scenario.write_text(SCENARIOS["pregnant-insulinoma.yaml"])
    run = nenscope_cli("recommend", scenario, "--format", "json")
    assert run.exit_code == 0, run.stderr
    data = json.loads(run.stdout)
    non_ionising = {"mri-noncontrast", "us-neck", "eus", "endoscopy", "biopsy", "no-imaging"}
    planned = [item["exam"] for item in data["plan"]]
    assert set(planned) <= non_ionising, planned
    avoided = {item["exam"] for item in data["avoid"]}
    # The gadolinium MRI this question would use (issue 8: the avoid list names the exams
    # considered for the question, not every gadolinium exam of the knowledge base).
    assert {"ga68-sstr-pet", "ct-cap", "mri-pancreas"} <= avoided, sorted(avoided)
    assert any("regnan" in w for w in data["warnings"]), data["warnings"]


@pytest.mark.parametrize(
    "example",
    ["mtc-recurrence", "occult-insulinoma", "sdhb-paraganglioma", "si-net-staging"],
)
def test_recommend_bundled_examples_json_contract(example: str, nenscope_cli: RunCli) -> None:
    run = nenscope_cli("recommend", "--example", example, "--format", "json")
    assert run.exit_code == 0, run.stderr
    _check_plan_contract(json.loads(run.stdout))


SUV_KEYS = (
    "series_instance_uid",
    "units",
    "decay_correction",
    "injected_activity_bq",
    "injection_datetime",
    "reference_datetime",
    "half_life_s",
    "weight_kg",
    "suv_bw_factor",
    "suv_lbm_factor",
    "suv_bsa_factor",
    "suvmax_bw",
    "warnings",
)


def test_suv_json_contract_real_ge_pet(nenscope_cli: RunCli) -> None:
    run = nenscope_cli("suv", shared_data_path(*TCIA_PET), "--format", "json")
    assert run.exit_code == 0, run.stderr
    data = json.loads(run.stdout)
    missing = [k for k in SUV_KEYS if k not in data]
    assert not missing, f"suv JSON lacks contract keys {missing}"
    assert isinstance(data["warnings"], list)
    # Header facts and expected values from the data README.
    assert data["units"] == "BQML"
    assert data["decay_correction"] == "START"
    assert data["weight_kg"] == pytest.approx(71.0, rel=1e-12)
    assert data["half_life_s"] == pytest.approx(6588.0, rel=1e-12)
    assert data["injected_activity_bq"] == pytest.approx(388.777e6, rel=1e-5)
    assert data["reference_datetime"].startswith("2000-09-07T11:20:11")
    assert data["injection_datetime"].startswith("2000-09-07T10:35:00")
    assert data["suv_bw_factor"] == pytest.approx(2.42903e-4, rel=1e-5)
    assert data["suvmax_bw"] == pytest.approx(66.52, abs=0.005)  # README: 66.52 (2 decimals)
    # Each factor is (body size) / (decayed dose): the ratios are the body-size ratios, whatever
    # the dose. By hand: LBM/weight and BSA(cm²)/weight from the provenance-free factors.
    ratio_lbm = data["suv_lbm_factor"] / data["suv_bw_factor"]
    assert 0.5 < ratio_lbm < 1.0, ratio_lbm  # a lean mass below the body mass
    # Du Bois BSA for 71 kg, 163 cm: 0.007184 * 71^0.425 * 163^0.725 m² = 1.7660 m².
    bsa_cm2 = 0.007184 * 71**0.425 * 163**0.725 * 1e4
    np.testing.assert_allclose(
        data["suv_bsa_factor"] / data["suv_bw_factor"], bsa_cm2 / 71_000.0, rtol=1e-4
    )


LESION_KEYS = ("id", "centroid_mm", "volume_ml", "suvmax", "suvpeak", "suvmean", "tlg", "krenning")


def test_analyze_writes_every_contract_file(analyzed_study: AnalyzedStudy) -> None:
    out = analyzed_study.out
    for name in ("lesions.json", "report.html", "report.pdf", "seg.dcm", "sr.dcm"):
        path = out / name
        assert path.is_file(), f"{name} missing in {out}"
        assert path.stat().st_size > 0, f"{name} is empty"
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")
    assert analyzed_study.stdout_json["errors"] == []
    on_disk = json.loads((out / "lesions.json").read_text())
    assert on_disk == analyzed_study.stdout_json["lesions"]


def test_analyze_lesions_json_matches_the_phantom_truth(analyzed_study: AnalyzedStudy) -> None:
    lesions = json.loads((analyzed_study.out / "lesions.json").read_text())
    assert isinstance(lesions, list)
    for lesion in lesions:
        missing = [k for k in LESION_KEYS if k not in lesion]
        assert not missing, f"lesion {lesion.get('id')} lacks {missing}"
        assert len(lesion["centroid_mm"]) == 3
    assert len({lesion["id"] for lesion in lesions}) == len(lesions)
    truth = analyzed_study.truth
    # Krenning grade by hand from the phantom: liver mean 7, spleen mean 22 (SUV).
    expected_krenning = {"liver-1": 4, "liver-2": 3, "liver-3": 4, "pancreas-1": 4}
    expected_krenning |= {"node-mesenteric": 2, "node-paraaortic": 3, "bone-1": 4}
    assert len(lesions) == len(truth.lesions), [lesion["centroid_mm"] for lesion in lesions]
    centroids = np.array([lesion["centroid_mm"] for lesion in lesions])
    for true in truth.lesions:
        distance = np.linalg.norm(centroids - np.asarray(true.centre_mm), axis=1)
        found, name = lesions[int(np.argmin(distance))], true.lesion_id
        # One 4 mm voxel: the generator places spheres on voxel centres of a 4 mm grid.
        assert distance.min() <= 4.0, (true.lesion_id, true.centre_mm, found["centroid_mm"])
        # Noise-free phantom: every lesion voxel holds the written SUV, and the 50 % contour
        # keeps all of them; the int16 rescale limits agreement to ~1e-7.
        np.testing.assert_allclose(found["suvmax"], true.suvmax, rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(found["suvmean"], true.suvmean, rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(found["volume_ml"], true.volume_ml, rtol=1e-9, err_msg=name)
        np.testing.assert_allclose(
            found["tlg"], found["suvmean"] * found["volume_ml"], rtol=1e-9, err_msg=name
        )
        assert found["suvpeak"] <= found["suvmax"] * (1 + 1e-9), true.lesion_id
        assert found["krenning"] == expected_krenning[true.lesion_id], true.lesion_id


_PDF_ROW = re.compile(
    # The site may be several words ("liver, right lobe"); the PDF wraps it in its column.
    r"^\s*(?P<id>\d+)\s+(?P<c>-?[\d.]+, -?[\d.]+, -?[\d.]+)\s+(?:[a-z][\w,/()-]*\s+)*"
    r"(?P<volume>[\d.]+) mL\s+(?P<suvmax>[\d.]+) g/mL\s+(?P<suvpeak>[\d.]+) g/mL\s+"
    r"(?P<suvmean>[\d.]+) g/mL\s+(?P<tlg>[\d.]+) g\s+(?P<krenning>\d)\b"
)


def test_report_pdf_numbers_match_lesions_json(analyzed_study: AnalyzedStudy) -> None:
    text = _pdf_text(analyzed_study)
    assert "Research software, not a medical device" in text
    rows = {int(m["id"]): m for line in text.splitlines() if (m := _PDF_ROW.match(line))}
    lesions = json.loads((analyzed_study.out / "lesions.json").read_text())
    assert sorted(rows) == sorted(int(lesion["id"]) for lesion in lesions), text
    for lesion in lesions:
        row = rows[int(lesion["id"])]
        for key in ("volume_ml", "suvmax", "suvpeak", "suvmean", "tlg"):
            printed = float(row["volume" if key == "volume_ml" else key])
            # The report prints 4 significant digits.
            np.testing.assert_allclose(
                printed, lesion[key], rtol=5e-4, err_msg=(lesion["id"], key)
            )
        assert int(row["krenning"]) == lesion["krenning"]
        printed_centre = [float(v) for v in row["c"].split(",")]
        np.testing.assert_allclose(printed_centre, lesion["centroid_mm"], atol=0.5)


def test_report_html_shows_every_lesion(analyzed_study: AnalyzedStudy) -> None:
    html = (analyzed_study.out / "report.html").read_text()
    lesions = json.loads((analyzed_study.out / "lesions.json").read_text())
    assert "<html" in html.lower()
    for lesion in lesions:
        assert f"{lesion['suvmax']:.4g}" in html, lesion["id"]
        assert f"{lesion['volume_ml']:.4g}" in html, lesion["id"]


def test_seg_and_sr_reference_the_pet_series(analyzed_study: AnalyzedStudy) -> None:
    truth = json.loads((analyzed_study.study / "truth.json").read_text())["uids"]
    seg = pydicom.dcmread(analyzed_study.out / "seg.dcm")
    assert seg.Modality == "SEG"
    assert seg.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.4"  # Segmentation Storage
    assert seg.FrameOfReferenceUID == truth["frame_of_reference_uid"]
    assert seg.StudyInstanceUID == truth["study_instance_uid"]
    referenced = {s.SeriesInstanceUID for s in seg.ReferencedSeriesSequence}
    assert truth["pet_series_instance_uid"] in referenced
    n_lesions = len(json.loads((analyzed_study.out / "lesions.json").read_text()))
    labels = [s.SegmentLabel for s in seg.SegmentSequence]
    assert sum(label.lower().startswith("lesion") for label in labels) == n_lesions, labels
    sr = pydicom.dcmread(analyzed_study.out / "sr.dcm")
    assert sr.Modality == "SR"
    assert sr.StudyInstanceUID == truth["study_instance_uid"]
    assert sr.ContentTemplateSequence[0].TemplateIdentifier == "1500"


@pytest.mark.parametrize("name", ["seg.dcm", "sr.dcm"])
def test_dciodvfy_finds_no_error(analyzed_study: AnalyzedStudy, name: str) -> None:
    dciodvfy = shutil.which("dciodvfy")
    if dciodvfy is None:
        pytest.skip("dicom3tools (dciodvfy) is not installed")
    run = subprocess.run(
        [dciodvfy, str(analyzed_study.out / name)], capture_output=True, text=True, timeout=120
    )
    report = run.stdout + run.stderr
    errors = [line for line in report.splitlines() if line.startswith("Error")]
    assert not errors, "\n".join(errors)
    assert report.strip(), "dciodvfy printed nothing"


def _ibsi_digital_phantom_reference() -> dict[str, tuple[float, float]]:
    """tag -> (value, tolerance) of the IBSI 1 digital phantom CSV.

    A tolerance of 0 means "exact to the digits given": IBSI rounds to 3 significant digits,
    so half a unit of the last digit given is allowed.
    """
    path = shared_data_path("ibsi", "ibsi_1_reference_values", "ibsi_1_dig_phantom.csv")
    table: dict[str, tuple[float, float]] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle, delimiter=";"):
            value, tolerance = row["reference value"], row["tolerance"]
            if not value:
                continue
            decimals = len(value.split(".")[1]) if "." in value else 0
            rounding = 0.5 * 10.0**-decimals
            table[row["tag"]] = (float(value), max(float(tolerance or 0), rounding))
    return table


# IBSI tag in the reference CSV -> the four-character IBSI code of the CLI's JSON.
RADIOMICS_CASES = {
    "morph_volume": "RNU0",
    "morph_vol_approx": "YEKZ",
    "morph_area_mesh": "C0JK",
    "stat_mean": "Q4LE",
    "stat_var": "ECT3",
    "stat_max": "84IY",
}


def test_radiomics_ibsi_digital_phantom_json_contract() -> None:
    image = shared_data_path("ibsi", "ibsi_1_digital_phantom", "nifti", "image", "phantom.nii.gz")
    mask = shared_data_path("ibsi", "ibsi_1_digital_phantom", "nifti", "mask", "mask.nii.gz")
    # Happy path: CliRunner is enough (nothing to turn into an exit status).
    result = CliRunner().invoke(
        app,
        ["radiomics", str(image), str(mask), "--config", "ibsi-phantom", "--format", "json"],
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data["features"], dict)
    features = data["features"]
    keys = list(features)
    assert all(re.fullmatch(r"[0-9A-Z]{4}(_[0-9.A-Za-z_]+)?", k) for k in keys), keys[:20]
    reference = _ibsi_digital_phantom_reference()
    for tag, code in RADIOMICS_CASES.items():
        expected, tolerance = reference[tag]
        assert code in features, f"{code} ({tag}) missing from the features"
        assert abs(features[code] - expected) <= tolerance, (code, features[code], expected)
    # GLCM keys carry the DESIGN aggregation suffix (3D approach: _3D_avg and _3D_mrg).
    assert any(k.endswith("_3D_avg") for k in keys)
    assert any(k.endswith("_3D_mrg") for k in keys)


def test_mip_labels_of_lesions_behind_each_other_stay_readable(
    analyzed_study: AnalyzedStudy, monkeypatch: pytest.MonkeyPatch
) -> None:
    from matplotlib.axes import Axes

    from nenscope.reporting.figures import LesionMarker, render_mip_png
    from tests.factories import grid

    lesions = json.loads((analyzed_study.out / "lesions.json").read_text())
    # In the phantom, bone-1 (0, 75, -60) lies straight behind node-mesenteric (0, -60, -60).
    markers = [LesionMarker(id=int(x["id"]), centroid_mm=tuple(x["centroid_mm"])) for x in lesions]
    shared = {}
    for marker in markers:
        shared.setdefault((round(marker.centroid_mm[0]), round(marker.centroid_mm[2])), []).append(
            marker.id
        )
    assert any(len(ids) > 1 for ids in shared.values()), shared  # the situation is real
    placed: dict[str, tuple[float, float]] = {}
    original = Axes.annotate

    def recording_annotate(self: Axes, text: str, *args: object, **kwargs: object) -> object:
        placed[text] = tuple(kwargs.get("xytext", args[1] if len(args) > 1 else (0.0, 0.0)))
        return original(self, text, *args, **kwargs)

    monkeypatch.setattr(Axes, "annotate", recording_annotate)
    suv = grid((60, 100, 100), (4.0, 4.0, 4.0), origin_mm=(-200.0, -200.0, -230.0), fill=1.0)
    render_mip_png(suv, markers)
    assert sorted(placed) == sorted(str(m.id) for m in markers)
    positions = list(placed.values())
    assert len(set(positions)) == len(positions), placed


DROS = [
    "DRO_0_0", "DRO_1_0", "DRO_2_0", "DRO_2_1", "DRO_2_2", "DRO_2_3", "DRO_2_4", "DRO_2_5",
    "DRO_3_0", "DRO_3_1", "DRO_3_2", "DRO_3_3", "DRO_3_4", "DRO_4_0", "DRO_4_1", "DRO_4_2",
    "DRO_5_0",
]  # fmt: skip


@pytest.mark.parametrize("dro", DROS)
def test_suv_ibsi_dro_max_is_4(dro: str) -> None:
    # Publisher (DRO_list.csv): SUVbw max 4.00 inside the phantom, every DRO, two decimals.
    # DRO_2_3 stores SUVbsa truncated at slope 0.01: the data README allows +-0.03 there.
    series = shared_data_path("dicom", "ibsi-suv-dro", dro, "PT")
    result = CliRunner().invoke(app, ["suv", str(series), "--format", "json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [k for k in SUV_KEYS if k not in data] == []
    tolerance = 0.03 if dro == "DRO_2_3" else 0.005
    assert data["suvmax_bw"] == pytest.approx(4.00, abs=tolerance)


def test_convert_writes_suv_nifti_with_patient_geometry(
    analyzed_study: AnalyzedStudy, tmp_path: Path
) -> None:
    import nibabel as nib

    out = tmp_path / "suv.nii.gz"
    result = CliRunner().invoke(
        app, ["convert", str(analyzed_study.study / "PET"), str(out), "--format", "json"]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["unit"] == "g/mL"
    image = nib.load(out)
    assert image.get_data_dtype() == np.float32  # the help promises float32
    values = np.asarray(image.dataobj, dtype=np.float64)
    np.testing.assert_allclose(summary["max"], values.max(), rtol=1e-6)
    ras_to_index = np.linalg.inv(image.affine)
    for lesion in analyzed_study.truth.lesions:
        # truth centres are LPS; NIfTI world is RAS: (x, y, z)_RAS = (-x, -y, z)_LPS.
        x, y, z = lesion.centre_mm
        i, j, k = np.rint(ras_to_index @ np.array([-x, -y, z, 1.0]))[:3].astype(int)
        # Noise-free phantom, float32 output: the lesion centre voxel holds the written SUV.
        np.testing.assert_allclose(
            values[i, j, k], lesion.suvmax, rtol=1e-6, err_msg=lesion.lesion_id
        )


def test_radiomics_pet_suv_preset_on_a_bqml_series_uses_suv(
    analyzed_study: AnalyzedStudy, nenscope_cli: RunCli
) -> None:
    truth = analyzed_study.truth
    bone = truth.lesion("bone-1")
    run = nenscope_cli(
        "radiomics",
        analyzed_study.study / "PET",
        analyzed_study.study / "labels_pet.nii.gz",
        "--label",
        f"label_{bone.label}",
        "--config",
        "pet-suv",
        "--format",
        "json",
    )
    # The CLI converts a Bq/mL PET series to SUVbw for settings made for SUV (pet-suv).
    assert run.exit_code == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["unit"] == "g/mL", data["unit"]
    # 84IY = intensity maximum; the preset resamples (linear, 3 mm) so the max may drop a little.
    assert 0.5 * bone.suvmax <= data["features"]["84IY"] <= bone.suvmax * (1 + 1e-6)


@pytest.fixture(scope="module")
def halved_uptake_response(
    analyzed_study: AnalyzedStudy, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, object]]:
    """``nenscope response`` baseline vs a follow-up with the same lesions at half the uptake."""
    from dataclasses import replace

    from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study

    baseline_settings = PhantomSettings(size="small", seed=3)
    lesions = tuple(replace(s, suv=s.suv / 2.0) for s in baseline_settings.lesion_specs)
    root = tmp_path_factory.mktemp("e2e-response")
    write_phantom_study(root / "followup", PhantomSettings(size="small", seed=4, lesions=lesions))
    result = CliRunner().invoke(
        app,
        [
            "response", str(analyzed_study.study), str(root / "followup"),
            "--out", str(root / "out"), "--no-pdf", "--format", "json",
        ],
    )  # fmt: skip
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["errors"] == []
    return {item["criterion"]: item for item in data["response"]}


def test_response_percist_partial_metabolic_response(
    halved_uptake_response: dict[str, dict[str, object]],
) -> None:
    assert set(halved_uptake_response) >= {"PERCIST 1.0", "RECIST 1.1", "Choi"}
    percist = halved_uptake_response["PERCIST 1.0"]
    for key in ("category", "baseline", "followup", "change_percent", "definition", "details"):
        assert key in percist, key
    # Hottest lesion uptake halves: -50 % >= 30 % and 17 SUL >= 0.8 SUL -> PMR (Wahl 2009).
    assert percist["category"] == "PMR"
    assert percist["change_percent"]["value"] == pytest.approx(-50.0, abs=0.01)


def test_response_sizes_unchanged_when_only_uptake_halves(
    halved_uptake_response: dict[str, dict[str, object]],
) -> None:
    recist, choi = halved_uptake_response["RECIST 1.1"], halved_uptake_response["Choi"]
    assert recist["category"] in {"SD", "NE"}, recist["details"]
    if recist["category"] == "SD":
        assert abs(recist["change_percent"]["value"]) < 10.0, recist["details"]
    assert choi["category"] in {"SD", "NE"}, choi["details"]


def _pdf_text(analyzed_study: AnalyzedStudy) -> str:
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.skip("poppler-utils (pdftotext) is not installed")
    return subprocess.run(
        [pdftotext, "-layout", str(analyzed_study.out / "report.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def test_report_pdf_reference_table_is_not_truncated(analyzed_study: AnalyzedStudy) -> None:
    text = _pdf_text(analyzed_study)
    section = text.split("Reference regions", 1)[1].split("Scores", 1)[0]
    rows = [line for line in section.splitlines() if line.strip()]
    assert any(line.split()[0] == "liver" for line in rows), section
    truncated = [line.strip() for line in rows if "…" in line]
    assert not truncated, "\n".join(truncated)


def test_analyze_percist_liver_threshold_keeps_the_kidney_out_of_the_liver(
    analyzed_study: AnalyzedStudy, tmp_path: Path
) -> None:
    # PERCIST liver threshold 1.5 x 7 + 2 x 0 = 10.5 SUV everywhere: the right kidney (SUV 13)
    # touches the liver; its contour must not spread into the liver (SUV 7) and make it a
    # "237 mL liver lesion". Expected by hand: the six painted lesions above 10.5 SUV.
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "analyze", str(analyzed_study.study), "--out", str(out), "--threshold",
            "percist-liver", "--no-pdf", "--format", "json",
        ],
    )  # fmt: skip
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 0, result.stderr
    lesions = json.loads(result.stdout)["lesions"]
    above = [x for x in analyzed_study.truth.lesions if x.suvmax > 10.5]
    assert len(lesions) == len(above), [(x["centroid_mm"], x["volume_ml"]) for x in lesions]
    largest = max(x.volume_ml for x in above)
    assert max(x["volume_ml"] for x in lesions) <= largest * (1 + 1e-9)


def test_analyze_seeds_and_masks_reproduce_the_truth(
    analyzed_study: AnalyzedStudy, tmp_path: Path
) -> None:
    # Semi-automatic (--lesion-mm at each true centre) and user masks (--lesion-mask with the
    # generator's own label map) must give the painted volume and SUV of each lesion.
    truth = analyzed_study.truth
    seeds = [f"--lesion-mm={','.join(f'{v:g}' for v in x.centre_mm)}" for x in truth.lesions]
    rois = [a for x in truth.lesions[:2] for a in ("--lesion-roi", f"label_{x.label}")]
    for name, extra, expected in (
        ("seeds", seeds, list(truth.lesions)),
        ("masks", ["--lesion-mask", str(analyzed_study.study / "labels_pet.nii.gz"), *rois],
         list(truth.lesions[:2])),
    ):  # fmt: skip
        result = CliRunner().invoke(
            app,
            [
                "analyze", str(analyzed_study.study), "--out", str(tmp_path / name), "--no-auto",
                "--no-pdf", "--format", "json", *extra,
            ],
        )  # fmt: skip
        assert result.exception is None or isinstance(result.exception, SystemExit), name
        assert result.exit_code == 0, (name, result.stderr)
        lesions = json.loads(result.stdout)["lesions"]
        assert len(lesions) == len(expected), name
        for true in expected:
            found = min(
                lesions,
                key=lambda x: math.dist(x["centroid_mm"], true.centre_mm),
            )
            assert math.dist(found["centroid_mm"], true.centre_mm) <= 4.0, (name, true.lesion_id)
            # Noise-free: the 50 % contour of a uniform sphere and the label map agree exactly.
            np.testing.assert_allclose(
                found["volume_ml"], true.volume_ml, rtol=1e-9, err_msg=f"{name} {true.lesion_id}"
            )
            np.testing.assert_allclose(
                found["suvmean"], true.suvmean, rtol=1e-6, err_msg=f"{name} {true.lesion_id}"
            )


def _sr_groups(sr: pydicom.Dataset) -> dict[str, dict[str, float]]:
    """Tracking identifier -> {"max"|"peak"|"mean"|"volume": value} of a TID 1500 SR."""
    groups: dict[str, dict[str, float]] = {}

    def walk(items: pydicom.Sequence) -> None:
        for item in items:
            if item.ValueType == "CONTAINER" and "ContentSequence" in item:
                children = item.ContentSequence
                ids = [c.TextValue for c in children if c.ValueType == "TEXT"]
                if ids and children[0].ConceptNameCodeSequence[0].CodeMeaning.startswith(
                    "Tracking Identifier"
                ):
                    values: dict[str, float] = {}
                    for c in children:
                        if c.ValueType != "NUM":
                            continue
                        meaning = c.ConceptNameCodeSequence[0].CodeMeaning
                        number = float(c.MeasuredValueSequence[0].NumericValue)
                        if meaning == "Volume":
                            values["volume"] = number
                        elif "ContentSequence" in c:
                            how = c.ContentSequence[0].ConceptCodeSequence[0].CodeMeaning
                            key = {"Maximum": "max", "Mean": "mean"}.get(how, "peak")
                            values[key] = number
                    groups[ids[0]] = values
                walk(children)

    walk(sr.ContentSequence)
    return groups


def test_sr_measurements_match_lesions_json(analyzed_study: AnalyzedStudy) -> None:
    sr = pydicom.dcmread(analyzed_study.out / "sr.dcm")
    groups = _sr_groups(sr)
    lesions = json.loads((analyzed_study.out / "lesions.json").read_text())
    for lesion in lesions:
        group = groups.get(f"Lesion {lesion['id']}")
        assert group is not None, sorted(groups)
        # DICOM DS holds 16 characters: agreement to ~1e-12, 1e-9 asked.
        for key, json_key in (("max", "suvmax"), ("peak", "suvpeak"), ("mean", "suvmean")):
            np.testing.assert_allclose(group[key], lesion[json_key], rtol=1e-9, err_msg=key)
        np.testing.assert_allclose(group["volume"], lesion["volume_ml"], rtol=1e-9)


def test_analyze_does_not_report_the_normal_pancreas(tmp_path: Path) -> None:
    from nenscope.dicom.synthetic import PhantomSettings, write_phantom_study
    from nenscope.quantification.phantom_model import LesionSpec

    # One liver lesion only: the painted truth is exactly one lesion.
    liver_only = LesionSpec(
        lesion_id="liver-1", centre_mm=(-95.0, -25.0, 60.0), diameter_mm=30.0, suv=45.0,
        site="liver",
    )  # fmt: skip
    study = tmp_path / "study"
    write_phantom_study(study, PhantomSettings(size="small", seed=8, lesions=(liver_only,)))
    result = CliRunner().invoke(
        app,
        ["analyze", str(study), "--out", str(tmp_path / "out"), "--no-pdf", "--format", "json"],
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 0, result.stderr
    lesions = json.loads(result.stdout)["lesions"]
    found = [(x["centroid_mm"], round(x["volume_ml"], 1), round(x["suvmax"], 1)) for x in lesions]
    assert len(lesions) == 1, found


def test_radiomics_batch_rows_errors_and_resume(tmp_path: Path) -> None:
    import pandas as pd

    image = shared_data_path("ibsi", "ibsi_1_digital_phantom", "nifti", "image", "phantom.nii.gz")
    mask = shared_data_path("ibsi", "ibsi_1_digital_phantom", "nifti", "mask", "mask.nii.gz")
    table = tmp_path / "cases.csv"
    table.write_text(
        f"image,mask,id\n{image},{mask},good\n{tmp_path / 'gone.nii.gz'},{mask},bad\n"
    )
    out = tmp_path / "features.parquet"
    args = ["radiomics-batch", str(table), "--out", str(out), "--config", "ibsi-phantom"]
    first = CliRunner().invoke(app, [*args, "--format", "json"])
    assert first.exception is None or isinstance(first.exception, SystemExit), first.exception
    assert first.exit_code == 0, first.stderr
    summary = json.loads(first.stdout)
    assert (summary["rows"], summary["errors"]) == (2, 1)
    rows = pd.read_parquet(out).set_index("case_id")
    assert rows.loc["good", "status"] == "ok"
    assert abs(rows.loc["good", "RNU0"] - 556.0) <= 4.0  # IBSI digital phantom, tolerance 4
    assert rows.loc["bad", "status"] == "error"
    assert "<image>" in rows.loc["bad", "error"]  # no file path in the export
    # Resumable: a second run keeps the finished case and retries only the failed one.
    again = json.loads(CliRunner().invoke(app, [*args, "--format", "json"]).stdout)
    assert (again["resumed_cases"], again["new_rows"]) == (1, 1)


TCIA_PET_UID = "1.3.6.1.4.1.14519.5.2.1.5168.1900.279539551699081894888330051583"


@pytest.fixture(scope="module")
def tcia_analysis(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict], dict]:
    """Automatic ``analyze`` of the real GE FDG PET/CT: (lesions, report.json)."""
    study = shared_data_path("dicom", "tcia-sts-001-ge-petct")
    out = tmp_path_factory.mktemp("e2e-tcia") / "out"
    result = CliRunner().invoke(
        app,
        [
            "analyze", str(study), "--out", str(out), "--pet-series", TCIA_PET_UID,
            "--no-pdf", "--format", "json",
        ],
    )  # fmt: skip
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["lesions"], json.loads((out / "report.json").read_text())


def test_analyze_real_fdg_pet_reports_only_lesions_above_threshold(
    tcia_analysis: tuple[list[dict], dict],
) -> None:
    # Real GE FDG PET/CT (data README). The report says "fixed threshold SUV > 2.50 ...;
    # minimum 0.5 mL": no reported lesion may have its SUVmax at or below the threshold or a
    # volume below the minimum (overlapping contours once left 0.1 mL remnants with SUVmax 0.4).
    lesions, report = tcia_analysis
    assert lesions
    # README: SUVbw max 66.52 is the urinary bladder (31 mL); it is physiological, so it is
    # not a lesion but a "Not reported" note, and every lesion lies below it.
    assert any("bladder" in n and "66.5" in n for n in report["notes"]), report["notes"]
    assert lesions[0]["suvmax"] < 66.5
    below = [(x["id"], x["suvmax"]) for x in lesions if x["suvmax"] <= 2.5]
    assert not below, below
    tiny = [(x["id"], x["volume_ml"]) for x in lesions if x["volume_ml"] < 0.5]
    assert not tiny, tiny
    assert [x["suvmax"] for x in lesions] == sorted((x["suvmax"] for x in lesions), reverse=True)


def test_analyze_real_fdg_pet_references_are_not_in_the_thigh(
    tcia_analysis: tuple[list[dict], dict],
) -> None:
    # The CT of this study is cropped 5 cm around the thigh sarcoma; the organ estimate once
    # outlined the "body" from it and put the liver reference at (7, -40, -724) mm and the
    # spleen in the hip. A reference region is either in the trunk or not placed (and said so).
    _, report = tcia_analysis
    gtv = (70.1, 12.4, -791.3)  # RTSTRUCT GTV_Mass centroid, LPS mm
    for region in report["references"]:
        assert math.dist(region["centre_mm"], gtv) > 150.0, (region["name"], region["centre_mm"])
    placed = {region["name"] for region in report["references"]}
    if "liver" not in placed:
        assert any("liver reference not placed" in w for w in report["warnings"])


def test_analyze_real_fdg_pet_reports_the_sarcoma(tcia_analysis: tuple[list[dict], dict]) -> None:
    lesions, report = tcia_analysis
    # GTV_Mass centroid from the RTSTRUCT (read with nenscope.dicom.masks.read_mask): LPS mm.
    gtv = (70.1, 12.4, -791.3)
    near = [x for x in lesions if math.dist(x["centroid_mm"], gtv) <= 40.0]
    assert near, [n for n in report["notes"] if "Not reported" in n]
    assert not any("bladder" in n and "-789" in n for n in report["notes"]), report["notes"]


def test_recommend_honours_available_exams(tmp_path: Path, nenscope_cli: RunCli) -> None:
    # DESIGN: `available` lists the exams the centre offers; the plan must stay inside it and
    # say what it replaced (SSTR PET -> 111In SPECT when only that is offered).
    offered = ["in111-sstr-spect", "ct-cap", "mri-liver"]
    scenario = tmp_path / "centre.yaml"
    scenario.write_text(
        "question: staging\nprimary_site: small-intestine\ngrade: G2\ntumor_type: net\n"
        f"differentiation: well\navailable: [{', '.join(offered)}]\n"
    )
    run = nenscope_cli("recommend", scenario, "--format", "json")
    assert run.exit_code == 0, run.stderr
    data = json.loads(run.stdout)
    _check_plan_contract(data)
    planned = [item["exam"] for item in data["plan"]]
    assert set(planned) <= {*offered, "no-imaging"}, planned
    assert "in111-sstr-spect" in planned
    assert any("ga68-sstr-pet" in w for w in data["warnings"]), data["warnings"]
