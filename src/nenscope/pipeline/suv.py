"""SUV of one PET series (the ``suv`` and ``convert`` commands): find it, read it, compute.

A folder holding one series is read as that series; a folder holding several series is
searched for its PET (or NM) series by the PET-series policy of ``analyze``
(:func:`nenscope.pipeline.study.choose_pet_series`). Warnings of reading and computing are
returned with the result (collected per thread, see :mod:`nenscope.core.diagnostics`), never
printed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nenscope.core.diagnostics import collect_warnings
from nenscope.core.errors import DicomImportError, OptionError, WorkbenchError
from nenscope.core.geometry import ImageVolume
from nenscope.dicom.discovery import discover_series
from nenscope.dicom.nifti import write_nifti
from nenscope.dicom.pet import SuvOverrides, SuvResult, compute_suv, suv_volume
from nenscope.dicom.series import DicomSeries, read_series
from nenscope.pipeline.study import choose_pet_series, one_patient

__all__ = ["SuvConversion", "SuvRun", "convert_to_suv_nifti", "load_pet_series", "run_suv"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SuvRun:
    """A series, its SUV result and the warnings of reading and computing (in order)."""

    series: DicomSeries
    result: SuvResult
    warnings: tuple[str, ...]

    def to_contract(self) -> dict[str, object]:
        """Return the JSON contract of ``nenscope suv`` with reader and computation warnings."""
        payload = self.result.to_contract()
        payload["warnings"] = list(self.warnings)
        return payload


def load_pet_series(
    path: Path, *, pet_series_uid: str | None = None, patient_id: str | None = None
) -> tuple[DicomSeries, list[str]]:
    """Read the PET series in ``path``: a series folder, or the folder of a study.

    A folder of several series is searched with the one PET-series policy of ``analyze``
    (:func:`nenscope.pipeline.study.choose_pet_series`: attenuation-corrected, then the most
    slices; ``pet_series_uid`` chooses), taking an NM (SPECT) series where there is no PET.

    Parameters
    ----------
    path
        Folder of one series (or one file), or the folder of a study.
    pet_series_uid
        SeriesInstanceUID of the PET series to read (``--pet-series``).
    patient_id
        PatientID (0010,0020) to read where the folder holds several patients.

    Returns
    -------
    tuple of DicomSeries and list of str
        The series and the notes of choosing it (empty when ``path`` held one series).

    Raises
    ------
    DicomImportError
        If ``path`` does not exist, holds no PET/SPECT series, holds several patients and none
        is chosen, or ``pet_series_uid`` is not among its PET series.
    """
    path = Path(path)
    if not path.exists():
        raise DicomImportError(f"{path} does not exist; pass the folder of a PET series.")
    refs = discover_series(path) if path.is_dir() else []
    if len(refs) <= 1 and pet_series_uid is None:
        return read_series(path), []
    found = one_patient(refs, str(path), patient_id)
    ref, note = choose_pet_series(found, str(path), pet_series_uid, spect=True)
    if not note:
        note = (
            f"{path} holds {len(refs)} series; the only PT/NM series {ref.series_instance_uid} "
            f"({ref.n_instances} files) was used"
        )
    return read_series(list(ref.files)), [note]


def run_suv(
    path: Path,
    *,
    overrides: SuvOverrides | None = None,
    lbm_formula: str = "janmahasatian",
    pet_series_uid: str | None = None,
    patient_id: str | None = None,
) -> SuvRun:
    """Read the series at ``path`` and compute its SUV, with every warning as text.

    Parameters
    ----------
    path
        Folder of one PET series, or a folder holding one PET series among others.
    overrides
        Values replacing or completing the header (weight, height, activity, time, sex).
    lbm_formula
        Lean-body-mass formula: ``janmahasatian`` or ``james``.
    pet_series_uid, patient_id
        Choose the PET series and the patient in a study folder (:func:`load_pet_series`).

    Returns
    -------
    SuvRun
        The series, the SUV factors with provenance, and the warnings.
    """
    with collect_warnings() as caught:
        series, notes = load_pet_series(path, pet_series_uid=pet_series_uid, patient_id=patient_id)
        result = compute_suv(series, overrides=overrides, lbm_formula=lbm_formula)
    messages = list(notes)
    for message in (*caught, *result.warnings):
        text = " ".join(message.split())
        if text not in messages:
            messages.append(text)
    return SuvRun(series=series, result=result, warnings=tuple(messages))


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SuvConversion:
    """A PET series converted to an SUV volume and written as NIfTI (``nenscope convert``)."""

    run: SuvRun
    volume: ImageVolume
    out: Path
    normalisation: str

    @property
    def maximum(self) -> float:
        """Largest SUV of the volume (NaN ignored)."""
        return float(np.nanmax(self.volume.array))


def convert_to_suv_nifti(
    path: Path,
    out: Path,
    *,
    normalisation: str = "bw",
    overrides: SuvOverrides | None = None,
    lbm_formula: str = "janmahasatian",
    pet_series_uid: str | None = None,
    patient_id: str | None = None,
) -> SuvConversion:
    """Convert the PET series at ``path`` to SUV (``bw``, ``lbm``, ``bsa``, ``ibw``) as NIfTI.

    The volume is written as float32 with its LPS geometry. ``pet_series_uid`` and
    ``patient_id`` choose in a study folder, as for :func:`run_suv`.

    Raises
    ------
    WorkbenchError
        As :func:`run_suv`, or when ``out`` cannot be written.
    """
    if not (out.name.endswith(".nii") or out.name.endswith(".nii.gz")):
        raise OptionError(f"Output {out} must end in .nii or .nii.gz.")
    run = run_suv(
        path,
        overrides=overrides,
        lbm_formula=lbm_formula,
        pet_series_uid=pet_series_uid,
        patient_id=patient_id,
    )
    volume = suv_volume(run.series, run.result, normalisation=normalisation)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_nifti(volume.with_array(volume.array.astype(np.float32)), out)
    except OSError as err:
        raise WorkbenchError(f"Cannot write {out}: {err}") from err
    return SuvConversion(run=run, volume=volume, out=out, normalisation=normalisation)
