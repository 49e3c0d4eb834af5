"""Machine-readable renderings of a :class:`~nenscope.reporting.model.Report`: JSON and CSV.

``lesions.json`` follows the DESIGN.md contract: a list with one object per lesion holding
``id``, ``centroid_mm`` ``[x, y, z]`` (LPS mm), ``volume_ml``, ``suvmax``, ``suvpeak``,
``suvmean``, ``tlg`` and ``krenning``; each object also has ``units`` and ``methods`` for every
number, and ``not_computable`` with the reason for each value that is ``null``. A lesion of a
reviewed result also has the reader's decision: ``status`` (``candidate``: an automatic
candidate not reviewed; ``confirmed``), ``reviewed_by`` (the reader, ``null`` when not reviewed)
and ``added_by_reader``; an automatic analysis's lesions have none of these keys.
``lesions.csv`` is the same numbers as a table a person opens in a spreadsheet: one row per
lesion, one column per measure with its unit in the header (``suvmax (g/mL)``), and a
``not_computable`` column giving the reason for each empty cell. The long form (one row per
number with its unit, method and reason) is :func:`lesions_to_long_csv`.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import fields
from typing import Any

from nenscope.core.jsonable import to_jsonable
from nenscope.reporting.model import LesionEntry, Report
from nenscope.reporting.presentation import body_region, target_ids

__all__ = [
    "CSV_COLUMNS",
    "lesion_to_dict",
    "lesions_to_csv",
    "lesions_to_json",
    "lesions_to_long_csv",
    "report_to_dict",
    "report_to_json",
]

CSV_COLUMNS: tuple[str, ...] = ("lesion_id", "quantity", "value", "unit", "method", "reason")
"""Columns of the long form (:func:`lesions_to_long_csv`: one row per number)."""

_WIDE_LEADING = ("id", "site", "detection", "candidate_reason")
_WIDE_TRAILING = ("krenning", "sstr_rads", "not_computable")
_REVIEW_COLUMNS = ("status", "reviewed_by", "added_by_reader")

_CENTROID_METHOD = "centre of mass of the lesion mask (voxel centres), LPS patient coordinates"
_KRENNING_METHOD = (
    "Krenning visual scale from SUVmax against liver and spleen reference means "
    "(0 none, 1 very low, 2 <= liver, 3 > liver, 4 > spleen)"
)


def lesion_to_dict(lesion: LesionEntry) -> dict[str, Any]:
    """One lesion as the ``lesions.json`` contract object.

    Examples
    --------
    >>> from nenscope.reporting.model import Quantity
    >>> q = {k: Quantity(value=1.0, unit="u", method="m") for k in
    ...      ("volume_ml", "suvmax", "suvpeak", "suvmean", "tlg")}
    >>> d = lesion_to_dict(LesionEntry(id=1, centroid_mm=(1.0, 2.0, 3.0), quantities=q,
    ...                                detection="test"))
    >>> d["id"], d["centroid_mm"], d["suvmax"], d["krenning"]
    (1, [1.0, 2.0, 3.0], 1.0, None)
    """
    out: dict[str, Any] = {
        "id": lesion.id,
        "centroid_mm": [float(v) for v in lesion.centroid_mm],
    }
    units: dict[str, str] = {"centroid_mm": "mm"}
    methods: dict[str, str] = {"centroid_mm": _CENTROID_METHOD}
    missing: dict[str, str] = {}
    for name, quantity in lesion.quantities.items():
        out[name] = quantity.value
        units[name] = quantity.unit
        methods[name] = quantity.method
        if quantity.reason is not None:
            missing[name] = quantity.reason
    out["krenning"] = lesion.krenning
    units["krenning"] = "1"
    methods["krenning"] = _KRENNING_METHOD
    if lesion.krenning is None:
        missing["krenning"] = lesion.krenning_reason or "not applicable"
    out["sstr_rads"] = lesion.sstr_rads
    out["site"] = lesion.site
    out["candidate_reason"] = lesion.candidate_reason
    out["volume_warning"] = lesion.volume_warning
    out["detection"] = lesion.detection
    if lesion.review is not None:
        out.update(_review_fields(lesion))
    out["units"] = units
    out["methods"] = methods
    out["not_computable"] = missing
    return out


def _review_fields(lesion: LesionEntry) -> dict[str, Any]:
    review = lesion.review
    if review is None:
        return {}
    return {
        "status": review.status,
        "reviewed_by": (review.by or None) if review.status == "confirmed" else None,
        "added_by_reader": review.added,
    }


def lesions_to_json(report: Report) -> str:
    """Render ``lesions.json``: a JSON list with one object per lesion (id order)."""
    return json.dumps([lesion_to_dict(les) for les in report.lesions], indent=2) + "\n"


def _number(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def lesions_to_csv(report: Report) -> str:
    """Render ``lesions.csv``: one row per lesion, one column per measure, units in the header.

    Columns: ``id``, ``site``, ``detection``, ``candidate_reason``, ``centroid_x (mm)`` …
    ``centroid_z (mm)``, then every quantity of the report in the order of
    :data:`~nenscope.reporting.model.LESION_FIELDS` followed by the others (diameters, ratios)
    as ``name (unit)``, then ``krenning``, ``sstr_rads`` and ``not_computable``
    (``"suvpeak: lesion smaller than the peak sphere; …"``). An empty cell is a value that
    could not be computed; the methods of every number are in ``lesions.json``. A reviewed
    result (any lesion with a ``review``) has ``status``, ``reviewed_by`` and
    ``added_by_reader`` after ``candidate_reason``.

    Examples
    --------
    >>> from nenscope.reporting.model import Quantity
    >>> q = {k: Quantity(value=2.0, unit="g/mL", method="m") for k in
    ...      ("volume_ml", "suvmax", "suvpeak", "suvmean", "tlg")}
    >>> report = Report(title="t", header=None, lesions=(LesionEntry(
    ...     id=1, centroid_mm=(1.0, 2.0, 3.0), quantities=q, detection="test"),))
    >>> lesions_to_csv(report).splitlines()[0].split(",")[4:7]
    ['centroid_x (mm)', 'centroid_y (mm)', 'centroid_z (mm)']
    """
    units: dict[str, str] = {}
    for lesion in report.lesions:
        for name, quantity in lesion.quantities.items():
            units.setdefault(name, quantity.unit)
    reviewed = any(lesion.review is not None for lesion in report.lesions)
    review_columns = _REVIEW_COLUMNS if reviewed else ()
    header = [
        *_WIDE_LEADING,
        *review_columns,
        *(f"centroid_{axis} (mm)" for axis in "xyz"),
        *(f"{name} ({unit})" for name, unit in units.items()),
        *_WIDE_TRAILING,
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for lesion in report.lesions:
        missing = {n: q.reason for n, q in lesion.quantities.items() if q.reason is not None}
        if lesion.krenning is None:
            missing["krenning"] = lesion.krenning_reason or "not applicable"
        writer.writerow(
            [
                lesion.id,
                lesion.site or "",
                lesion.detection,
                lesion.candidate_reason or "",
                *(_review_cells(lesion) if reviewed else ()),
                *(_number(v) for v in lesion.centroid_mm),
                *(
                    _number(lesion.quantities[n].value) if n in lesion.quantities else ""
                    for n in units
                ),
                "" if lesion.krenning is None else lesion.krenning,
                lesion.sstr_rads or "",
                "; ".join(f"{n}: {reason}" for n, reason in missing.items()),
            ]
        )
    return buffer.getvalue()


def _review_cells(lesion: LesionEntry) -> tuple[str, str, str]:
    fields_ = _review_fields(lesion)
    if not fields_:
        return ("", "", "")
    return (
        str(fields_["status"]),
        fields_["reviewed_by"] or "",
        "yes" if fields_["added_by_reader"] else "no",
    )


def lesions_to_long_csv(report: Report) -> str:
    """Render the lesions in long form (:data:`CSV_COLUMNS`), one row per number."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for lesion in report.lesions:
        for axis, value in zip("xyz", lesion.centroid_mm, strict=True):
            writer.writerow(
                [lesion.id, f"centroid_{axis}_mm", repr(float(value)), "mm", _CENTROID_METHOD, ""]
            )
        for name, q in lesion.quantities.items():
            value_text = "" if q.value is None else repr(float(q.value))
            writer.writerow([lesion.id, name, value_text, q.unit, q.method, q.reason or ""])
        krenning = "" if lesion.krenning is None else str(lesion.krenning)
        reason = "" if lesion.krenning is not None else (lesion.krenning_reason or "")
        writer.writerow([lesion.id, "krenning", krenning, "1", _KRENNING_METHOD, reason])
    return buffer.getvalue()


def report_to_dict(report: Report) -> dict[str, Any]:
    """Convert the whole report to plain JSON types; figures are left out (see HTML/PDF)."""
    data = {
        f.name: to_jsonable(getattr(report, f.name)) for f in fields(report) if f.name != "figures"
    }
    targets = set(target_ids(report))
    data["target_ids"] = sorted(targets)
    # report.json also says where each lesion is reported and why it was kept (lesions.json
    # keeps its own contract).
    data["lesions"] = [
        lesion_to_dict(les)
        | {
            "body_region": body_region(les),
            "candidate_reason": les.candidate_reason,
            "target": les.id in targets,
        }
        for les in report.lesions
    ]
    return data


def report_to_json(report: Report) -> str:
    """:func:`report_to_dict` as indented JSON text."""
    return json.dumps(report_to_dict(report), indent=2, ensure_ascii=False) + "\n"
