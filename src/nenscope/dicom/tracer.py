"""Tracer detection in PET/SPECT headers, by the tracer table of :mod:`nenscope.core.tracers`.

The tracer is looked for, in this order, in Radiopharmaceutical (0018,0031) of the first
RadiopharmaceuticalInformationSequence (0054,0016) item, the code meaning of its
RadiopharmaceuticalCodeSequence (0054,0304), and the SeriesDescription (0008,103E). The series
description is free text written by technologists ("PET AC protocol"), so there a tracer word
counts only as a whole word; the radiopharmaceutical fields are matched as the table says (a
word inside a longer name: "Ga68-DOTATATE"). The radionuclide named in
RadionuclideCodeSequence (0054,0300) or in the text settles a word shared by tracers of several
nuclides (DOTATATE: 68Ga or 64Cu).
"""

from __future__ import annotations

from collections.abc import Sequence

import pydicom

from nenscope.core.tracers import TracerMatch, TracerTable, match_tracer
from nenscope.quantification.radionuclides import identify_radionuclide

__all__ = ["detect_tracer", "read_radiopharmaceutical"]


def _text(value: object) -> str:
    return str(value or "").strip()


def _fields(ds: pydicom.Dataset) -> tuple[str, str, str, str]:
    """Radiopharmaceutical text, its code meaning, the radionuclide meaning, SeriesDescription."""
    items = ds.get("RadiopharmaceuticalInformationSequence") or []
    name = code = nuclide = ""
    if items:
        item = items[0]
        name = _text(item.get("Radiopharmaceutical"))
        codes_seq = item.get("RadiopharmaceuticalCodeSequence") or []
        code = _text(codes_seq[0].get("CodeMeaning")) if codes_seq else ""
        nuc_seq = item.get("RadionuclideCodeSequence") or []
        nuclide = _text(nuc_seq[0].get("CodeMeaning")) if nuc_seq else ""
    return name, code, nuclide, _text(ds.get("SeriesDescription"))


def detect_tracer(
    headers: Sequence[pydicom.Dataset], *, table: TracerTable | None = None
) -> TracerMatch | None:
    """Recognise the tracer of a PET/SPECT series from its headers, or return ``None``.

    Parameters
    ----------
    headers
        The series' datasets (the first one is read).
    table
        Tracer table (:func:`nenscope.core.tracers.load_tracer_table`); default the packaged
        one.

    Returns
    -------
    TracerMatch or None
        The candidates the first field that names a tracer gives; ``None`` when no field does.
    """
    if not headers:
        return None
    name, code, nuclide_text, description = _fields(headers[0])
    nuclide = None
    for text in (nuclide_text, name, code, description):
        found = identify_radionuclide(text, table=table) if text else None
        if found is not None:
            nuclide = found.label
            break
    for text in (name, code):
        if text and (match := match_tracer(text, radionuclide=nuclide, table=table)):
            return match
    if description:
        return match_tracer(description, radionuclide=nuclide, table=table, whole_words=True)
    return None


def read_radiopharmaceutical(headers: Sequence[pydicom.Dataset]) -> str:
    """Radiopharmaceutical name of a PET series, for report headers (``""`` when absent).

    Reads Radiopharmaceutical (0018,0031) of the first RadiopharmaceuticalInformationSequence
    (0054,0016) item, else the code meaning of RadiopharmaceuticalCodeSequence (0054,0304).
    """
    if not headers:
        return ""
    items = headers[0].get("RadiopharmaceuticalInformationSequence") or []
    if not items:
        return ""
    item = items[0]
    name = str(item.get("Radiopharmaceutical", "") or "").strip()
    if name:
        return name
    codes_seq = item.get("RadiopharmaceuticalCodeSequence") or []
    return str(codes_seq[0].get("CodeMeaning", "")).strip() if codes_seq else ""
