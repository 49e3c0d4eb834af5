"""``nenscope analyze STUDY_DIR --out DIR``: the whole PET/CT analysis with reports.

The command converts the options to :class:`~nenscope.pipeline.AnalysisOptions`, runs
:func:`~nenscope.pipeline.analyze_study` and says where the outputs are. Partial results are
written with the reason; the exit status is then 2 and the reason is printed on stderr.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from nenscope.cli._common import EXIT_BAD_INPUT, OutputFormat, console, print_json
from nenscope.cli.app import app
from nenscope.cli.commands.suv import (
    DoseOpt,
    HeightOpt,
    InjectionOpt,
    SexOpt,
    WeightOpt,
    parse_injection_time,
)
from nenscope.core.enums import parse_option
from nenscope.core.errors import OptionError
from nenscope.dicom.pet import SuvOverrides
from nenscope.pipeline import AnalysisOptions, AnalysisResult, analyze_study
from nenscope.pipeline.scores import SstrRadsInputs
from nenscope.radiomics.settings import load_settings
from nenscope.reporting import lesion_to_dict, report_to_dict
from nenscope.segmentation import Delineation, DetectionSettings, ThresholdMethod

__all__ = [
    "analyze_command",
    "detection_settings",
    "parse_id_values",
    "parse_point_mm",
    "print_result",
]

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


def parse_point_mm(text: str, *, option: str) -> tuple[float, float, float]:
    """Parse ``"x,y,z"`` (LPS mm) from the command line.

    Examples
    --------
    >>> parse_point_mm("-50, 6.5,38", option="--liver-mm")
    (-50.0, 6.5, 38.0)
    """
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 3 or not all(abs(v) < 1e5 for v in values):
        raise OptionError(
            f"{option} '{text}' must be three numbers x,y,z in LPS mm, e.g. {option} -50,6,38."
        )
    return (values[0], values[1], values[2])


def parse_id_values(items: list[str] | None, *, option: str) -> dict[int, str]:
    """Parse repeated ``ID=VALUE`` options (lesion number = value).

    Examples
    --------
    >>> parse_id_values(["1=atypical", "3=typical"], option="--lesion-site")
    {1: 'atypical', 3: 'typical'}
    """
    out: dict[int, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip().isdigit() or not value.strip():
            raise OptionError(
                f"{option} '{item}' must be LESION_NUMBER=VALUE, e.g. {option} 2=atypical."
            )
        out[int(key)] = value.strip()
    return out


def detection_settings(
    *,
    threshold: str,
    suv_threshold: float,
    percent_of_max: float,
    min_volume_ml: float,
    delineation: str,
) -> DetectionSettings:
    """Build detection settings from the command-line options; refuse impossible values.

    Examples
    --------
    >>> detection_settings(threshold="fixed", suv_threshold=3.0, percent_of_max=40.0,
    ...                    min_volume_ml=1.0, delineation="none").suv_threshold
    3.0
    """
    try:
        return DetectionSettings(
            method=parse_option(threshold, ThresholdMethod, what="threshold method"),
            suv_threshold=suv_threshold,
            percent_of_max=percent_of_max,
            min_volume_ml=min_volume_ml,
            delineation=parse_option(delineation, Delineation, what="delineation"),
        )
    except ValueError as err:
        if isinstance(err, OptionError):
            raise
        raise OptionError(f"Detection option refused: {err}") from err


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


def print_result(result: AnalysisResult, out_dir: Path, output_format: OutputFormat) -> None:
    """Print the outcome (text or the JSON summary) and set the exit status."""
    if output_format is OutputFormat.JSON:
        print_json(
            {
                "out_dir": out_dir,
                "files": dict(result.files),
                "lesions": [lesion_to_dict(les) for les in result.report.lesions],
                "scores": report_to_dict(result.report)["scores"],
                "references": report_to_dict(result.report)["references"],
                "warnings": list(result.report.warnings),
                "errors": list(result.errors),
                "timings_s": dict(result.timings_s),
            }
        )
    else:
        console.print(f"Analysed {len(result.report.lesions)} lesion(s); outputs in {out_dir}:")
        for role, path in result.files.items():
            console.print(f"  {role:13s} {path}")
        for score in result.report.scores:
            console.print(f"{score.name}: {score.value}", highlight=False)
        for text in result.report.warnings:
            console.print(f"[yellow]warning:[/yellow] {text}", highlight=False)
        total = sum(result.timings_s.values())
        console.print(f"Total {total:.1f} s.")
    if result.errors:
        sys.stderr.write("nenscope: error: " + " ".join(" | ".join(result.errors).split()) + "\n")
        raise typer.Exit(code=EXIT_BAD_INPUT)


@app.command("analyze")
def analyze_command(  # noqa: PLR0913 - one parameter per CLI option (Typer)
    study_dir: Annotated[Path, typer.Argument(help="Folder of the PET/CT study (DICOM).")],
    out: Annotated[Path, typer.Option("--out", help="Output folder.")],
    threshold: Annotated[
        str, typer.Option(help="Detection threshold: fixed, percent-max or percist-liver.")
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
    weight_kg: WeightOpt = None,
    height_cm: HeightOpt = None,
    injected_mbq: DoseOpt = None,
    injection_time: InjectionOpt = None,
    sex: SexOpt = None,
    pdf: Annotated[bool, typer.Option(help="Write report.pdf.")] = True,
    organs: Annotated[
        Path | None,
        typer.Option(
            "--organs",
            help="Organ masks: TotalSegmentator output folder or a label map with names.",
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
) -> None:
    """Analyse a PET/CT study: SUV, reference regions, lesions, scores, reports, SEG and SR."""
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
    options = AnalysisOptions(
        detection=detection,
        auto_detect=auto,
        lesion_seeds_mm=tuple(parse_point_mm(p, option="--lesion-mm") for p in lesion_mm or []),
        lesion_masks=tuple(lesion_mask or ()),
        lesion_rois=tuple(lesion_roi or ()),
        reference_points_mm=ref_points,
        reference_masks=ref_masks,
        normalisation=normalisation,
        suv_overrides=SuvOverrides(
            weight_kg=weight_kg,
            height_cm=height_cm,
            injected_mbq=injected_mbq,
            injection_time=parse_injection_time(injection_time),
            sex=sex,
        ),
        tracer=tracer,
        pet_series_uid=pet_series,
        sstr_rads=SstrRadsInputs(
            sites=parse_id_values(lesion_site, option="--lesion-site"),
            anatomy=parse_id_values(lesion_anatomy, option="--lesion-anatomy"),
            bone=tuple(bone_lesion or ()),
            variants=tuple(variant_lesion or ()),
        ),
        fdg_study=fdg,
        pdf=pdf,
        radiomics=None if radiomics is None else load_settings(radiomics),
        organs=organs,
    )
    result = analyze_study(study_dir, out, options)
    print_result(result, out, output_format)
