"""Study loading: find the PET and CT series of a study, read them, convert the PET to SUV.

One policy chooses the PET series (attenuation-corrected first, then the whole-body series)
and one the CT (same frame of reference, most slices).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Sequence
from pathlib import Path

from nenscope.core.errors import DicomImportError
from nenscope.core.tracers import AnalysisFamily, TracerTable
from nenscope.dicom import DicomSeries, SeriesRef, read_series, scan_folder
from nenscope.dicom.datasets import Dataset, is_in_memory, read_dataset_series, scan_sources
from nenscope.dicom.pet import compute_suv, suv_volume
from nenscope.dicom.tracer import detect_tracer, read_radiopharmaceutical
from nenscope.pipeline.model import AnalysisOptions, StudyData

__all__ = [
    "StudySource",
    "analysis_family",
    "choose_pet_series",
    "describe_source",
    "discover_study",
    "load_study",
    "one_patient",
    "read_study_series",
]

StudySource = str | os.PathLike[str] | Sequence[str | os.PathLike[str] | Dataset]
"""A study: its folder, a list of its DICOM files, or its in-memory datasets (e.g. from a PACS)."""


def describe_source(source: StudySource) -> str:
    """Name a study source in messages: its folder, or how many files / datasets it has."""
    if isinstance(source, str | os.PathLike):
        return str(source)
    n_data = sum(1 for item in source if isinstance(item, Dataset))
    if n_data == len(source):
        return f"the {n_data} given datasets"
    return f"the {len(source)} given files" + (" and datasets" if n_data else "")


def discover_study(source: StudySource) -> tuple[SeriesRef, ...]:
    """Find the series of a study source (headers kept for reading)."""
    if isinstance(source, str | os.PathLike):
        return scan_folder(Path(source), keep_headers=True).series
    return scan_sources(
        [item if isinstance(item, Dataset) else Path(item) for item in source]
    ).series


def read_study_series(ref: SeriesRef) -> DicomSeries:
    """Read a discovered series (from its files, or from its in-memory datasets)."""
    if is_in_memory(ref):
        return read_dataset_series([header[0] for header in ref.headers])
    return read_series(list(ref.files), headers=ref.headers)


def _series_summary(series: Sequence[SeriesRef]) -> str:
    if not series:
        return "no DICOM series"
    return ", ".join(
        f"{s.modality} '{s.series_description}' ({s.n_instances} files)" for s in series
    )


def choose_pet_series(
    series: Sequence[SeriesRef],
    root: str,
    uid: str | None = None,
    *,
    spect: bool = False,
) -> tuple[SeriesRef, str]:
    """Choose the PET series of a study: the one policy of ``analyze``, ``suv`` and ``convert``.

    Parameters
    ----------
    series
        The discovered series (of one patient).
    root
        The source, named in messages.
    uid
        SeriesInstanceUID (0020,000E) the user chose (``--pet-series``), if any.
    spect
        Take the NM (SPECT) series where the study holds no PET (``suv``/``convert``: SPECT
        quantification; the lesion analysis reads PET only).

    Returns
    -------
    tuple of SeriesRef and str
        The series and a note on the choice (``""`` where the study holds one candidate).

    Notes
    -----
    Attenuation-corrected before non-corrected (NAC images give meaningless SUVs), then the
    series with the most slices (the whole-body acquisition, not a cropped or derived series
    such as an SUV map or a reformat), then the lower UID, so that the choice is repeatable.

    Raises
    ------
    DicomImportError
        If ``uid`` is not a PET series of the study, or the study holds no PET series; the
        message lists what it holds.
    """
    pets = [s for s in series if s.modality == "PT"]
    kind = "PET series (Modality PT)"
    if spect and not pets:
        pets = [s for s in series if s.modality == "NM"]
        kind = "PET or SPECT series (Modality PT or NM)"
    if uid is not None:
        chosen = [s for s in pets if s.series_instance_uid == uid]
        if not chosen:
            raise DicomImportError(
                f"PET series {uid} is not in {root}; PET series there: "
                f"{[s.series_instance_uid for s in pets] or 'none'}."
            )
        return chosen[0], f"PET series {uid} chosen by the user."
    if not pets:
        raise DicomImportError(
            f"No {kind} in {root}: found {_series_summary(series)}. "
            "Pass the folder of a PET/CT study."
        )
    pets = sorted(
        pets,
        key=lambda s: (_looks_nac(s), -s.n_instances * max(s.n_frames, 1), s.series_instance_uid),
    )
    note = ""
    if len(pets) > 1:
        others = ", ".join(
            f"'{s.series_description}' ({s.n_instances}"
            + (", not attenuation-corrected)" if _looks_nac(s) else ")")
            for s in pets[1:]
        )
        note = (
            f"{len(pets)} PET series found; analysed '{pets[0].series_description}' "
            f"({pets[0].n_instances} files), not {others}. Use --pet-series to choose."
        )
    return pets[0], note


_NAC = re.compile(r"(^|[^A-Z])(NAC|NOAC|NON[-_ ]?AC|UNCORR\w*|NO[-_ ]ATTN)([^A-Z]|$)")
"""Series description / image type words that mark a PET series as not attenuation-corrected."""


def one_patient(
    series: Sequence[SeriesRef], root: str, patient_id: str | None = None
) -> list[SeriesRef]:
    """Return the series of one patient; refuse a folder mixing patients unless one is chosen.

    Issue 14: a folder holding two patients' studies was analysed silently as one (the PET of
    one, perhaps the CT of the other). The PatientID (0010,0020) values are named so that the
    user can choose with ``--patient-id``.
    """
    by_patient: dict[str, list[SeriesRef]] = {}
    for ref in series:
        by_patient.setdefault(ref.patient_id.strip(), []).append(ref)
    listing = "; ".join(
        f"PatientID '{pid}' ({len(refs)} series)" if pid else f"no PatientID ({len(refs)} series)"
        for pid, refs in sorted(by_patient.items())
    )
    if patient_id is not None:
        chosen = by_patient.get(patient_id.strip())
        if not chosen:
            raise DicomImportError(
                f"--patient-id '{patient_id}' is not in {root}; it holds {listing}."
            )
        return chosen
    if len(by_patient) > 1:
        raise DicomImportError(
            f"{root} holds the series of {len(by_patient)} patients: {listing}. An analysis "
            "reads one patient's study; pass --patient-id to choose, or the folder of one study."
        )
    return list(series)


def _looks_nac(ref: SeriesRef) -> bool:
    """Whether the series description or image type says 'not attenuation-corrected'."""
    text = " ".join((ref.series_description, *ref.image_type)).upper()
    return _NAC.search(text) is not None


def _choose_ct(series: Sequence[SeriesRef], pet: SeriesRef) -> SeriesRef | None:
    cts = [
        s
        for s in series
        if s.modality == "CT" and s.frame_of_reference_uid == pet.frame_of_reference_uid
    ]
    if not cts:
        return None
    return sorted(cts, key=lambda s: (-s.n_instances, s.series_instance_uid))[0]


def analysis_family(
    headers: Sequence[Dataset], option: str = "auto", *, table: TracerTable | None = None
) -> AnalysisFamily:
    """Choose the analysis family of a PET series: the user's ``--tracer``, else its tracer's.

    Parameters
    ----------
    headers
        The PET series' datasets.
    option
        ``sstr``, ``fdg`` or ``other`` decides; ``auto`` (default) takes the family of the
        tracer the headers name (:func:`nenscope.dicom.tracer.detect_tracer`, the tracer table
        of :mod:`nenscope.core.tracers`); ``other`` when they name none.
    table
        Tracer table; default the packaged one.
    """
    if option in tuple(AnalysisFamily):
        return AnalysisFamily(option)
    found = detect_tracer(headers, table=table)
    if found is None or found.analysis_family is None:
        return AnalysisFamily.OTHER
    return found.analysis_family


def load_study(study: StudySource, options: AnalysisOptions | None = None) -> StudyData:
    """Find and read the PET and CT series of a study and convert the PET to SUV.

    Parameters
    ----------
    study
        Folder holding the study's DICOM files (any layout), a list of its files, or its
        in-memory pydicom datasets.
    options
        Analysis options (PET series choice, SUV normalisation and overrides, tracer).

    Returns
    -------
    StudyData
        The series, the SUV image and what was chosen.

    Raises
    ------
    DicomImportError
        If there is no PET series or it cannot be read.
    NotComputableError
        If SUV cannot be computed; the message names the missing attribute and the option that
        supplies it.
    """
    options = options or AnalysisOptions()
    where = describe_source(study)
    found = one_patient(discover_study(study), where, options.patient_id)
    pet_ref, note = choose_pet_series(found, where, options.pet_series_uid)
    notes = [note] if note else []
    pet = read_study_series(pet_ref)
    result = compute_suv(pet, overrides=options.suv_overrides)
    suv = suv_volume(pet, result, normalisation=options.normalisation)
    ct_ref = _choose_ct(found, pet_ref)
    ct = None
    if ct_ref is None:
        notes.append(
            f"No CT series shares the PET's frame of reference ({pet_ref.frame_of_reference_uid}) "
            f"in {where}: the analysis uses the PET alone (no fused views, no CT checks of "
            "seed points, no CT-based response or registration)."
        )
    else:
        # No later step reads the CT's headers: only its volume (fusion, organ model, seed
        # checks) and its SeriesInstanceUID (the report). Its ~600 datasets are released here.
        ct = dataclasses.replace(read_study_series(ct_ref), headers=())
    tracer = read_radiopharmaceutical(pet.headers) or result.radionuclide or "unknown"
    return StudyData(
        pet=pet,
        ct=ct,
        suv=suv,
        suv_result=result,
        tracer=tracer,
        tracer_family=analysis_family(pet.headers, options.tracer),
        pet_ref=_without_headers(pet_ref),
        ct_ref=None if ct_ref is None else _without_headers(ct_ref),
        notes=tuple(notes),
    )


def _without_headers(ref: SeriesRef) -> SeriesRef:
    """Return the discovered series without the headers kept for reading it (read by now).

    Issue 10 item 6: a whole-body CT's 600 headers are ~86 000 Python objects that every full
    garbage collection of the rest of the analysis would walk again; the PET's stay in
    :attr:`StudyData.pet` for the SEG and SR.
    """
    return dataclasses.replace(ref, headers=())
