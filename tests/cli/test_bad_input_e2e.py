"""Bad input to every command: exit status 2 and ONE line on stderr that names the problem.

DESIGN.md: "exits non-zero with a one-line message on stderr for bad input"; STYLE.md §8.2: the
message says what failed, on which input, what was expected, what was found and how to fix it;
§8.4: unknown option values get the closest match and the full list.

Each case runs ``nenscope`` in-process through ``nenscope.cli.main`` (the console script), so what
is checked is exactly what a user sees: the exit status, and stderr being one line that starts
with ``nenscope: error:`` and holds the words a user needs (the offending file, field or value).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from nenscope.dicom.synthetic import PhantomTruth
from tests.cli.conftest import TCIA_CT, TCIA_PET, RunCli
from tests.conftest import shared_data_path

IBSI_NIFTI = ("ibsi", "ibsi_1_digital_phantom", "nifti")
# nibabel's Siemens mosaic b0/b1000 test files: real headers, every pixel 0 (data README).
SIEMENS_DWI = ("dicom", "mr-dwi", "siemens-trio-mosaic-nibabel")


@dataclass(frozen=True, slots=True)
class Inputs:
    """Bad (and good) inputs the cases combine; ``tmp`` is the test's own folder."""

    tmp: Path
    missing: Path
    empty: Path
    non_dicom: Path
    truncated: Path
    no_weight: Path
    pet: Path
    ct_only: Path
    study: Path
    image: Path
    mask: Path

    def text(self, name: str, content: str) -> Path:
        path = self.tmp / name
        path.write_text(content)
        return path


@pytest.fixture
def inputs(
    tmp_path: Path,
    empty_folder: Path,
    non_dicom_folder: Path,
    truncated_dicom: Path,
    pet_without_weight: Path,
    phantom_study: tuple[Path, PhantomTruth],
) -> Inputs:
    ct_only = tmp_path / "series"  # a CT series in a folder whose name does not say "CT"
    ct_only.mkdir()
    for src in sorted(shared_data_path(*TCIA_CT).glob("*.dcm"))[:3]:
        shutil.copy(src, ct_only / src.name)
    return Inputs(
        tmp=tmp_path,
        missing=tmp_path / "no-such-folder",
        empty=empty_folder,
        non_dicom=non_dicom_folder,
        truncated=truncated_dicom,
        no_weight=pet_without_weight,
        pet=shared_data_path(*TCIA_PET),
        ct_only=ct_only,
        study=phantom_study[0],
        image=shared_data_path(*IBSI_NIFTI, "image", "phantom.nii.gz"),
        mask=shared_data_path(*IBSI_NIFTI, "mask", "mask.nii.gz"),
    )


Args = Callable[[Inputs], list[object]]


def _lesion_json(**change: object) -> str:
    """One phantom lesion inside the liver (the built-in liver-1 centre), with ``change``."""
    lesion = {"id": "a", "centre_mm": [-95, -25, 60], "diameter_mm": 10, "suv": 5}
    return json.dumps([{**lesion, "organ": "liver", **change}])


def _scenario(name: str, body: str) -> Args:
    return lambda i: ["recommend", i.text(name, body), "--format", "json"]


# id -> (arguments, words the one stderr line must hold). "{tmp}"-free: the words are fixed
# strings; the file a case names is checked by its base name.
CASES: dict[str, tuple[Args, tuple[str, ...]]] = {
    # recommend: scenario files
    "recommend-missing-file": (
        lambda i: ["recommend", i.tmp / "nowhere.yaml"],
        ("nowhere.yaml",),
    ),
    "recommend-folder": (lambda i: ["recommend", i.empty], ("empty",)),
    "recommend-unknown-field": (
        _scenario("unknown-field.yaml", "question: staging\nprimary_sit: pancreas\n"),
        ("unknown-field.yaml", "primary_sit", "Did you mean 'primary_site'"),
    ),
    "recommend-unknown-value": (
        _scenario("unknown-value.yaml", "question: staging\nprimary_site: pancreaz\n"),
        ("unknown-value.yaml", "primary_site", "pancreaz", "Did you mean 'pancreas'"),
    ),
    "recommend-unknown-question": (
        _scenario("question.yaml", "question: stagging\n"),
        ("question.yaml", "stagging", "staging"),
    ),
    "recommend-negative-weight": (
        _scenario("weight.yaml", "question: staging\nweight_kg: -70\n"),
        ("weight.yaml", "weight_kg", "-70"),
    ),
    "recommend-egfr-900": (
        _scenario("egfr.yaml", "question: staging\negfr_ml_min: 900\n"),
        ("egfr.yaml", "egfr_ml_min", "900"),
    ),
    "recommend-weight-not-a-number": (
        _scenario("heavy.yaml", "question: staging\nweight_kg: heavy\n"),
        ("heavy.yaml", "weight_kg", "heavy"),
    ),
    "recommend-no-question": (
        _scenario("noq.yaml", "primary_site: pancreas\n"),
        ("noq.yaml", "question"),
    ),
    "recommend-bad-yaml": (
        _scenario("broken.yaml", "question: [staging\n"),
        ("broken.yaml", "YAML"),
    ),
    "recommend-bad-json": (
        _scenario("broken.json", '{"question": "staging",\n'),
        ("broken.json", "JSON"),
    ),
    "recommend-list-not-map": (
        _scenario("list.yaml", "- question: staging\n"),
        ("list.yaml",),
    ),
    "recommend-unknown-prior-exam": (
        _scenario("prior.yaml", "question: staging\nprior: {fdg-pett: positive}\n"),
        ("prior.yaml", "fdg-pett", "Did you mean 'fdg-pet'"),
    ),
    "recommend-unknown-example": (
        lambda i: ["recommend", "--example", "si-net-stagin"],
        ("si-net-stagin", "si-net-staging"),
    ),
    "recommend-neither-file-nor-example": (lambda i: ["recommend"], ("--example",)),
    # suv
    "suv-missing": (lambda i: ["suv", i.missing], ("no-such-folder",)),
    "suv-empty-folder": (lambda i: ["suv", i.empty], ("empty",)),
    "suv-non-dicom": (lambda i: ["suv", i.non_dicom], ("notes", "not DICOM")),
    "suv-truncated": (lambda i: ["suv", i.truncated], ("truncated", "PixelData")),
    "suv-no-weight": (
        lambda i: ["suv", i.no_weight, "--format", "json"],
        ("PatientWeight", "(0010,1030)", "--weight-kg"),
    ),
    "suv-negative-weight-option": (
        lambda i: ["suv", i.pet, "--weight-kg", "-5"],
        ("--weight-kg",),
    ),
    "suv-unknown-sex": (lambda i: ["suv", i.pet, "--sex", "X"], ("--sex", "'X'")),
    "suv-bad-injection-time": (
        lambda i: ["suv", i.pet, "--injection-time", "yesterday"],
        ("--injection-time", "yesterday", "ISO 8601"),
    ),
    "suv-zero-activity": (lambda i: ["suv", i.pet, "--injected-mbq", "0"], ("--injected-mbq",)),
    # convert
    "convert-missing": (lambda i: ["convert", i.missing, i.tmp / "o.nii.gz"], ("no-such-folder",)),
    "convert-no-weight": (
        lambda i: ["convert", i.no_weight, i.tmp / "o.nii.gz"],
        ("PatientWeight", "--weight-kg"),
    ),
    "convert-output-not-nifti": (lambda i: ["convert", i.pet, i.tmp / "o.txt"], ("o.txt", ".nii")),
    # info
    "info-missing": (lambda i: ["info", i.missing], ("no-such-folder",)),
    "info-empty": (lambda i: ["info", i.empty], ("empty",)),
    "info-non-dicom": (lambda i: ["info", i.non_dicom], ("notes",)),
    # adc
    "adc-missing": (lambda i: ["adc", i.missing, i.tmp / "adc.nii.gz"], ("no-such-folder",)),
    "adc-empty": (lambda i: ["adc", i.empty, i.tmp / "adc.nii.gz"], ("empty",)),
    "adc-non-dicom": (lambda i: ["adc", i.non_dicom, i.tmp / "adc.nii.gz"], ("notes", "MR")),
    "adc-blank-images": (
        lambda i: [
            "adc",
            shared_data_path(*SIEMENS_DWI),
            i.tmp / "adc.nii.gz",
        ],
        ("siemens-trio-mosaic-nibabel", "every voxel", "b = 0, 1000"),
    ),
    "adc-pet-not-dwi": (lambda i: ["adc", i.truncated, i.tmp / "adc.nii.gz"], ("MR",)),
    # phantom
    "phantom-unknown-size": (
        lambda i: ["phantom", i.tmp / "ph", "--size", "tiny"],
        ("tiny", "small"),
    ),
    "phantom-unknown-tracer": (
        lambda i: ["phantom", i.tmp / "ph", "--tracer", "fdgg"],
        ("fdgg", "Did you mean 'fdg'"),
    ),
    "phantom-unknown-vendor": (
        lambda i: ["phantom", i.tmp / "ph", "--vendor", "gee"],
        ("gee", "Did you mean 'ge'"),
    ),
    "phantom-negative-weight": (
        lambda i: ["phantom", i.tmp / "ph", "--weight-kg", "-3"],
        ("weight", "-3"),
    ),
    "phantom-missing-lesion-file": (
        lambda i: ["phantom", i.tmp / "ph", "--lesions", i.tmp / "lesions.json"],
        ("lesions.json",),
    ),
    "phantom-lesion-unknown-site": (
        lambda i: [
            "phantom",
            i.tmp / "ph",
            "--size",
            "small",
            "--lesions",
            i.text("livr.json", _lesion_json(organ="livr")),
        ],
        ("'livr'", "Did you mean 'liver'"),
    ),
    "phantom-lesion-outside-patient": (
        lambda i: [
            "phantom",
            i.tmp / "ph",
            "--size",
            "small",
            "--lesions",
            i.text("huge.json", _lesion_json(diameter_mm=300)),
        ],
        ("300 mm", "outside the patient"),
    ),
    "phantom-lesion-negative-suv": (
        lambda i: [
            "phantom",
            i.tmp / "ph",
            "--size",
            "small",
            "--lesions",
            i.text("cold.json", _lesion_json(suv=-5)),
        ],
        ("cold.json", "suv", "-5"),
    ),
    "phantom-output-exists": (
        lambda i: ["phantom", i.study, "--size", "small"],
        ("study", "--overwrite"),
    ),
    # analyze
    "analyze-missing": (
        lambda i: ["analyze", i.missing, "--out", i.tmp / "out", "--no-pdf"],
        ("no-such-folder",),
    ),
    "analyze-empty": (
        lambda i: ["analyze", i.empty, "--out", i.tmp / "out", "--no-pdf"],
        ("empty", "PET"),
    ),
    "analyze-non-dicom": (
        lambda i: ["analyze", i.non_dicom, "--out", i.tmp / "out", "--no-pdf"],
        ("notes", "PET"),
    ),
    "analyze-truncated": (
        lambda i: ["analyze", i.truncated, "--out", i.tmp / "out", "--no-pdf"],
        ("truncated",),
    ),
    "analyze-no-weight": (
        lambda i: ["analyze", i.no_weight, "--out", i.tmp / "out", "--no-pdf"],
        ("PatientWeight", "--weight-kg"),
    ),
    "analyze-seed-outside-fov": (
        lambda i: [
            "analyze",
            i.study,
            "--out",
            i.tmp / "out",
            "--no-auto",
            "--no-pdf",
            "--lesion-mm",
            "0,0,900",
        ],
        ("(0, 0, 900)", "field of view"),
    ),
    "analyze-seed-outside-body": (
        lambda i: [
            "analyze",
            i.study,
            "--out",
            i.tmp / "out",
            "--no-auto",
            "--no-pdf",
            "--lesion-mm",
            "190,190,0",
        ],
        ("(190, 190, 0)", "outside the body"),
    ),
    "analyze-seed-two-numbers": (
        lambda i: ["analyze", i.study, "--out", i.tmp / "out", "--lesion-mm", "1,2"],
        ("--lesion-mm", "'1,2'"),
    ),
    "analyze-unknown-threshold": (
        lambda i: ["analyze", i.study, "--out", i.tmp / "out", "--threshold", "fixd"],
        ("fixd", "Did you mean 'fixed'"),
    ),
    "analyze-unknown-normalisation": (
        lambda i: ["analyze", i.study, "--out", i.tmp / "out", "--normalisation", "bw2"],
        ("bw2", "Did you mean 'bw'"),
    ),
    "analyze-negative-suv-threshold": (
        lambda i: ["analyze", i.study, "--out", i.tmp / "out", "--suv-threshold", "-1"],
        ("suv_threshold", "-1"),
    ),
    "analyze-percent-of-max-150": (
        lambda i: [
            "analyze",
            i.study,
            "--out",
            i.tmp / "out",
            "--threshold",
            "percent-max",
            "--percent-of-max",
            "150",
        ],
        ("percent_of_max", "150"),
    ),
    "analyze-liver-centre-outside-image": (
        lambda i: [
            "analyze",
            i.study,
            "--out",
            i.tmp / "out",
            "--no-pdf",
            "--liver-mm",
            "0,0,900",
        ],
        ("liver", "(0, 0, 900)", "outside the image"),
    ),
    "analyze-out-is-a-file": (
        lambda i: ["analyze", i.study, "--out", i.text("taken", "x")],
        ("taken",),
    ),
    # response
    "response-baseline-missing": (
        lambda i: ["response", i.missing, i.study, "--out", i.tmp / "out", "--no-pdf"],
        ("baseline", "no-such-folder"),
    ),
    "response-followup-empty": (
        lambda i: ["response", i.study, i.empty, "--out", i.tmp / "out", "--no-pdf"],
        ("follow-up", "empty"),
    ),
    # radiomics
    "radiomics-missing-image": (
        lambda i: ["radiomics", i.tmp / "img.nii.gz", i.mask, "--config", "ibsi-phantom"],
        ("img.nii.gz",),
    ),
    "radiomics-missing-mask": (
        lambda i: ["radiomics", i.image, i.tmp / "roi.nii.gz", "--config", "ibsi-phantom"],
        ("roi.nii.gz",),
    ),
    "radiomics-unknown-preset": (
        lambda i: ["radiomics", i.image, i.mask, "--config", "ibsi-phantomm"],
        ("ibsi-phantomm", "Did you mean 'ibsi-phantom'"),
    ),
    "radiomics-unknown-setting": (
        lambda i: ["radiomics", i.image, i.mask, "--config", i.text("cfg.yaml", "approch: 3d\n")],
        ("approch", "approach"),
    ),
    "radiomics-negative-bin-size": (
        lambda i: [
            "radiomics",
            i.image,
            i.mask,
            "--config",
            i.text("bins.yaml", "discretise:\n  method: fixed-bin-size\n  bin_size: -1\n"),
        ],
        ("bin_size", "-1"),
    ),
    "radiomics-unknown-label": (
        lambda i: ["radiomics", i.image, i.mask, "--config", "ibsi-phantom", "--label", "nope"],
        ("mask.nii.gz", "'nope'"),
    ),
    "radiomics-non-dicom-image-folder": (
        lambda i: ["radiomics", i.non_dicom, i.mask, "--config", "ibsi-phantom"],
        ("notes",),
    ),
    "radiomics-batch-missing-table": (
        lambda i: [
            "radiomics-batch",
            i.tmp / "cases.csv",
            "--out",
            i.tmp / "f.parquet",
            "--config",
            "ibsi-phantom",
        ],
        ("cases.csv",),
    ),
    "radiomics-batch-wrong-columns": (
        lambda i: [
            "radiomics-batch",
            i.text("cases.csv", "path,roi\na,b\n"),
            "--out",
            i.tmp / "f.parquet",
            "--config",
            "ibsi-phantom",
        ],
        ("cases.csv", "image", "mask"),
    ),
    # dose, exams, evidence
    "dose-decay-unknown-nuclide": (
        lambda i: [
            "dose",
            "decay",
            "--nuclide",
            "Ga-69",
            "--activity-mbq",
            "100",
            "--elapsed-min",
            "60",
        ],
        ("Ga-69", "Did you mean 'Ga-68'"),
    ),
    "dose-decay-no-time": (
        lambda i: ["dose", "decay", "--nuclide", "Ga-68", "--activity-mbq", "100"],
        ("--elapsed-min",),
    ),
    "dose-activity-unknown-exam": (
        lambda i: ["dose", "activity", "ga68-sstr-pett", "--weight-kg", "70"],
        ("ga68-sstr-pett", "Did you mean 'ga68-sstr-pet'"),
    ),
    "dose-activity-negative-weight": (
        lambda i: ["dose", "activity", "ga68-sstr-pet", "--weight-kg", "-70"],
        ("weight", "-70"),
    ),
    "dose-schedule-bad-item": (
        lambda i: ["dose", "schedule", "ga68-sstr-pet:x"],
        ("ga68-sstr-pet:x", "EXAM:MONTHS"),
    ),
    "dose-latest-not-enough": (
        lambda i: [
            "dose",
            "latest",
            "--nuclide",
            "Ga-68",
            "--activity-mbq",
            "100",
            "--at",
            "2025-01-01T10:00:00+00:00",
            "--required-mbq",
            "200",
        ],
        ("100 MBq", "200 MBq"),
    ),
    "exams-unknown-id": (
        lambda i: ["exams", "ga68-sstr-pett"],
        ("ga68-sstr-pett", "Did you mean 'ga68-sstr-pet'"),
    ),
    "evidence-unknown-id": (lambda i: ["evidence", "hope-2018-aucc"], ("hope-2018-aucc",)),
}


def _assert_one_clear_line(run_exit: int, stderr: str, words: tuple[str, ...]) -> str:
    assert "Traceback" not in stderr, stderr
    assert run_exit == 2, f"exit status {run_exit}, stderr:\n{stderr}"
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one stderr line, got {len(lines)}:\n{stderr}"
    line = lines[0]
    assert line.startswith("nenscope: error: "), line
    missing = [w for w in words if w not in line]
    assert not missing, f"the message lacks {missing}: {line}"
    return line


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_gives_one_clear_line(case: str, inputs: Inputs, nenscope_cli: RunCli) -> None:
    build, words = CASES[case]
    run = nenscope_cli(*build(inputs))
    _assert_one_clear_line(run.exit_code, run.stderr, words)


def test_refused_analyze_writes_nothing(inputs: Inputs, nenscope_cli: RunCli) -> None:
    # A study that cannot be analysed at all is refused with the reason and writes nothing
    # (issue 8: no output files for a refused input; the old code wrote an empty report).
    out = inputs.tmp / "out"
    run = nenscope_cli("analyze", inputs.no_weight, "--out", out, "--no-pdf")
    _assert_one_clear_line(run.exit_code, run.stderr, ("PatientWeight",))
    assert not out.exists()


# --- Bugs found end to end; each flips to a pass when its owner fixes it. -------------------

USAGE_ERRORS: dict[str, tuple[Args, tuple[str, ...]]] = {
    "convert-to-suvxx": (
        lambda i: ["convert", i.pet, i.tmp / "o.nii.gz", "--to", "suvxx"],
        ("--to", "suvxx", "suvbw"),
    ),
    "recommend-format-xml": (
        lambda i: ["recommend", "--example", "si-net-staging", "--format", "xml"],
        ("--format", "xml", "json"),
    ),
    "analyze-without-out": (lambda i: ["analyze", i.study], ("--out",)),
    "suv-weight-not-a-number": (
        lambda i: ["suv", i.pet, "--weight-kg", "abc"],
        ("--weight-kg", "abc"),
    ),
    "unknown-command": (lambda i: ["recomend"], ("recomend", "recommend")),
}


@pytest.mark.parametrize("case", list(USAGE_ERRORS), ids=list(USAGE_ERRORS))
def test_usage_error_is_one_line(case: str, inputs: Inputs, nenscope_cli: RunCli) -> None:
    build, words = USAGE_ERRORS[case]
    run = nenscope_cli(*build(inputs))
    _assert_one_clear_line(run.exit_code, run.stderr, words)


def test_suv_on_a_ct_series_says_it_is_not_pet(inputs: Inputs, nenscope_cli: RunCli) -> None:
    run = nenscope_cli("suv", inputs.ct_only)
    line = _assert_one_clear_line(run.exit_code, run.stderr, ())
    assert "CT" in line, line
    assert "PT" in line or "PET" in line, line


def test_suv_unknown_lbm_formula_suggests_the_option_value(
    inputs: Inputs, nenscope_cli: RunCli
) -> None:
    run = nenscope_cli("suv", inputs.pet, "--lbm-formula", "jamez")
    _assert_one_clear_line(run.exit_code, run.stderr, ("jamez", "Did you mean 'james'"))


def test_dose_decay_refuses_negative_activity(nenscope_cli: RunCli) -> None:
    run = nenscope_cli(
        "dose", "decay", "--nuclide", "Ga-68", "--activity-mbq", "-100", "--elapsed-min", "60"
    )
    _assert_one_clear_line(run.exit_code, run.stderr, ("-100",))


def test_dose_activity_refuses_impossible_weight(nenscope_cli: RunCli) -> None:
    run = nenscope_cli("dose", "activity", "ga68-sstr-pet", "--weight-kg", "7000")
    _assert_one_clear_line(run.exit_code, run.stderr, ("7000",))


def test_radiomics_empty_mask_names_the_mask(inputs: Inputs, nenscope_cli: RunCli) -> None:
    import nibabel as nib
    import numpy as np

    reference = nib.load(inputs.mask)
    empty = inputs.tmp / "empty-roi.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros(reference.shape, np.uint8), reference.affine), empty)
    run = nenscope_cli("radiomics", inputs.image, empty, "--config", "ibsi-phantom")
    _assert_one_clear_line(run.exit_code, run.stderr, ("empty-roi.nii.gz", "empty"))


def test_radiomics_bad_setting_value_names_the_file(inputs: Inputs, nenscope_cli: RunCli) -> None:
    config = inputs.text("approach.yaml", "approach: 4d\n")
    run = nenscope_cli("radiomics", inputs.image, inputs.mask, "--config", config)
    _assert_one_clear_line(run.exit_code, run.stderr, ("approach.yaml", "'4d'", "3d"))


def test_recommend_breastfeeding_male_is_refused(inputs: Inputs, nenscope_cli: RunCli) -> None:
    scenario = inputs.text("bf.yaml", "question: staging\nbreastfeeding: true\nsex: male\n")
    run = nenscope_cli("recommend", scenario, "--format", "json")
    _assert_one_clear_line(run.exit_code, run.stderr, ("bf.yaml", "breastfeeding", "male"))


def test_recommend_duplicate_field_is_refused(inputs: Inputs, nenscope_cli: RunCli) -> None:
    scenario = inputs.text("twice.yaml", "question: staging\nquestion: diagnosis\n")
    run = nenscope_cli("recommend", scenario, "--format", "json")
    _assert_one_clear_line(run.exit_code, run.stderr, ("twice.yaml", "question"))


def test_suv_injection_time_offset_is_not_silently_dropped(
    inputs: Inputs, nenscope_cli: RunCli
) -> None:
    run = nenscope_cli(
        "suv", inputs.pet, "--injection-time", "2000-09-07T10:35:00+02:00", "--format", "json"
    )
    if run.exit_code == 2:
        line = _assert_one_clear_line(run.exit_code, run.stderr, ("--injection-time",))
        assert "offset" in line.lower() or "zone" in line.lower(), line
        return
    assert run.exit_code == 0, run.stderr
    data = json.loads(run.stdout)
    said = " ".join([*data["warnings"], str(data.get("provenance", ""))]).lower()
    assert "+02:00" in said or "offset" in said or "zone" in said, data["warnings"]


def test_suv_refuses_impossible_weight_override(inputs: Inputs, nenscope_cli: RunCli) -> None:
    run = nenscope_cli("suv", inputs.pet, "--weight-kg", "5000", "--format", "json")
    _assert_one_clear_line(run.exit_code, run.stderr, ("--weight-kg", "5000"))


def test_analyze_no_auto_without_lesions_is_not_a_negative_study(
    inputs: Inputs, nenscope_cli: RunCli
) -> None:
    out = inputs.tmp / "out"
    run = nenscope_cli("analyze", inputs.study, "--out", out, "--no-auto", "--no-pdf")
    if run.exit_code == 2:
        _assert_one_clear_line(run.exit_code, run.stderr, ("--no-auto", "--lesion-mm"))
        return
    assert run.exit_code == 0, run.stderr
    report = json.loads((out / "report.json").read_text())
    said = " ".join(report["warnings"]).lower()
    assert "detection" in said, report["warnings"]
    assert "off" in said, report["warnings"]
    assert "No lesion was found." not in (out / "report.html").read_text()
