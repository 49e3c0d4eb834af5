"""``nenscope analyze STUDY_DIR --out DIR``: the whole PET/CT analysis with reports.

The command converts the options to :class:`~nenscope.pipeline.AnalysisOptions`, runs
:func:`~nenscope.pipeline.analyze_study` and says where the outputs are. Partial results are
written with the reason; the exit status is then 2 and the reason is printed on stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nenscope.cli._common import OutputFormat, fail, stage_progress
from nenscope.cli._options import (
    DoseOpt,
    HeightOpt,
    InjectionOpt,
    SexOpt,
    WeightOpt,
    detection_settings,
    parse_id_values,
    parse_injection_time,
    parse_point_mm,
)
from nenscope.cli._results import print_result
from nenscope.cli.app import app

__all__ = ["analyze_command"]

PointsOpt = Annotated[
    list[str] | None,
    typer.Option("--lesion-mm", help="Seed point x,y,z (LPS mm) of a lesion; repeatable."),
]
MaskOpt = Annotated[
    list[Path] | None,
    typer.Option("--lesion-mask", help="Lesion mask (NIfTI, DICOM SEG, RTSTRUCT); repeatable."),
]
RoiOpt = Annotated[
    list[str] | None,
    typer.Option("--lesion-roi", help="ROI/segment name to take from --lesion-mask; repeatable."),
]
RefMaskOpt = Annotated[Path | None, typer.Option(help="Reference region mask file.")]


def _references(
    points: dict[str, str | None], masks: dict[str, Path | None]
) -> tuple[dict[str, tuple[float, float, float]], dict[str, Path]]:
    ref_points = {
        name: parse_point_mm(text, option=f"--{name.replace('_', '-')}-mm")
        for name, text in points.items()
        if text is not None
    }
    ref_masks = {name: path for name, path in masks.items() if path is not None}
    return ref_points, ref_masks


ORGAN_MODELS = ("totalsegmentator", "totalsegmentator-fast")
"""``--organs`` values that run an organ model instead of naming a folder or file."""


def _organ_source(value: str | None) -> tuple[Path | None, str | None]:
    """``--organs``: (folder or label map, None) or (None, organ model name)."""
    if value is None:
        return None, None
    if value.lower() in ORGAN_MODELS:
        return None, value.lower()
    return Path(value), None


@app.command("analyze")
def analyze_command(  # noqa: PLR0913 - one parameter per CLI option (Typer)
    study_dir: Annotated[Path, typer.Argument(help="Folder of the PET/CT study (DICOM).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    threshold: Annotated[
        str,
        typer.Option(
            help="Detection threshold: fixed (--suv-threshold), percent-max (--percent-of-max), "
            "percist-liver (PERCIST liver-adaptive) or liver-fraction (a fraction of the liver "
            "mean)."
        ),
    ] = "fixed",
    suv_threshold: Annotated[float, typer.Option(help="SUV for --threshold fixed.")] = 2.5,
    percent_of_max: Annotated[float, typer.Option(help="Percent for percent-max.")] = 40.0,
    min_volume_ml: Annotated[float, typer.Option(help="Smallest lesion kept, mL.")] = 0.5,
    delineation: Annotated[
        str, typer.Option(help="Contour: background-corrected, percent-lesion-max or none.")
    ] = "background-corrected",
    auto: Annotated[bool, typer.Option(help="Automatic lesion detection.")] = True,
    lesion_mm: PointsOpt = None,
    lesion_mask: MaskOpt = None,
    lesion_roi: RoiOpt = None,
    liver_mm: Annotated[
        str | None, typer.Option(help="Liver reference sphere centre x,y,z (LPS mm).")
    ] = None,
    spleen_mm: Annotated[
        str | None, typer.Option(help="Spleen reference sphere centre x,y,z (LPS mm).")
    ] = None,
    blood_pool_mm: Annotated[
        str | None, typer.Option(help="Blood-pool (descending aorta) centre x,y,z (LPS mm).")
    ] = None,
    liver_mask: RefMaskOpt = None,
    spleen_mask: RefMaskOpt = None,
    blood_pool_mask: RefMaskOpt = None,
    tracer: Annotated[str, typer.Option(help="auto (header), sstr, fdg or other.")] = "auto",
    fdg: Annotated[
        Path | None, typer.Option("--fdg", help="FDG PET/CT study of the same patient (NETPET).")
    ] = None,
    lesion_site: Annotated[
        list[str] | None,
        typer.Option(help="SSTR-RADS: ID=typical|atypical (site typical of NET?); repeatable."),
    ] = None,
    lesion_anatomy: Annotated[
        list[str] | None,
        typer.Option(help="SSTR-RADS: ID=none|suspicious|benign (CT/MRI finding); repeatable."),
    ] = None,
    bone_lesion: Annotated[
        list[int] | None, typer.Option(help="SSTR-RADS: lesion number of a bone lesion.")
    ] = None,
    variant_lesion: Annotated[
        list[int] | None,
        typer.Option(help="SSTR-RADS: lesion number of a physiological variant (uncinate)."),
    ] = None,
    normalisation: Annotated[str, typer.Option(help="SUV: bw, lbm, bsa or ibw.")] = "bw",
    pet_series: Annotated[str | None, typer.Option(help="PET SeriesInstanceUID.")] = None,
    patient_id: Annotated[
        str | None,
        typer.Option(help="PatientID to analyse when the folder holds several patients."),
    ] = None,
    weight_kg: WeightOpt = None,
    height_cm: HeightOpt = None,
    injected_mbq: DoseOpt = None,
    injection_time: InjectionOpt = None,
    sex: SexOpt = None,
    pdf: Annotated[bool, typer.Option(help="Write report.pdf.")] = True,
    organs: Annotated[
        str | None,
        typer.Option(
            "--organs",
            help="Organ masks: TotalSegmentator output folder or a label map with names; or "
            "'totalsegmentator' / 'totalsegmentator-fast' to run TotalSegmentator here on the "
            "CT (needs nenscope[totalsegmentator] and its weights on this computer; nothing "
            "is downloaded). A folder of that name: give ./totalsegmentator.",
        ),
    ] = None,
    radiomics: Annotated[
        str | None,
        typer.Option(
            "--radiomics",
            metavar="CONFIG",
            help="Radiomics per lesion: preset (e.g. pet-suv) or YAML file; radiomics.json/.csv.",
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="text or json.")
    ] = OutputFormat.TEXT,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="No progress and no summary; errors still on stderr."),
    ] = False,
) -> None:
    """Analyse a PET/CT study: SUV, reference regions, lesions, scores, reports, SEG and SR."""
    from nenscope.api import (
        AnalysisOptions,
        OrganModel,
        SstrRadsInputs,
        SuvOverrides,
        analyze,
        load_settings,
        write_outputs,
    )
    from nenscope.core.enums import Normalisation, parse_option

    if not study_dir.is_dir():
        fail(
            f"{study_dir}: no such folder. Give the folder that holds the PET/CT study's DICOM "
            "files (nothing was written)."
        )

    detection = detection_settings(
        threshold=threshold,
        suv_threshold=suv_threshold,
        percent_of_max=percent_of_max,
        min_volume_ml=min_volume_ml,
        delineation=delineation,
    )
    ref_points, ref_masks = _references(
        {"liver": liver_mm, "spleen": spleen_mm, "blood_pool": blood_pool_mm},
        {"liver": liver_mask, "spleen": spleen_mask, "blood_pool": blood_pool_mask},
    )
    organ_folder, organ_model = _organ_source(organs)
    options = AnalysisOptions(
        detection=detection,
        auto_detect=auto,
        lesion_seeds_mm=tuple(parse_point_mm(p, option="--lesion-mm") for p in lesion_mm or []),
        lesion_masks=tuple(lesion_mask or ()),
        lesion_rois=tuple(lesion_roi or ()),
        reference_points_mm=ref_points,
        reference_masks=ref_masks,
        normalisation=parse_option(normalisation, Normalisation, what="SUV normalisation"),
        suv_overrides=SuvOverrides(
            weight_kg=weight_kg,
            height_cm=height_cm,
            injected_mbq=injected_mbq,
            injection_time=parse_injection_time(injection_time),
            sex=sex,
        ),
        tracer=tracer,
        pet_series_uid=pet_series,
        patient_id=patient_id,
        sstr_rads=SstrRadsInputs(
            sites=parse_id_values(lesion_site, option="--lesion-site"),
            anatomy=parse_id_values(lesion_anatomy, option="--lesion-anatomy"),
            bone=tuple(bone_lesion or ()),
            variants=tuple(variant_lesion or ()),
        ),
        fdg_study=fdg,
        pdf=pdf,
        radiomics=None if radiomics is None else load_settings(radiomics),
        organs=organ_folder,
        organ_model=None if organ_model is None else OrganModel(organ_model),
    )
    with stage_progress(f"Analysing {study_dir}", quiet=quiet) as on_stage:
        result = analyze(study_dir, options, on_stage=on_stage)
        if result.study is None:
            # Refused input (no DICOM, no PET series, unreadable study): nothing is written.
            fail(" | ".join(result.errors) + f" (nothing written to {out})")
        result = write_outputs(result, out, on_stage=on_stage)
    print_result(result, out, output_format, quiet=quiet)
