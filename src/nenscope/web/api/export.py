"""Research export: de-identified lesion tables (CSV or Parquet), radiomics where present.

``GET /api/export/studies`` lists the studies an export can hold and ``GET /api/export/lesions``
sends the table; both for researchers and admins. Nothing that identifies a patient leaves:

- the patient is a keyed pseudonym (``anon-…``, the one researchers see everywhere), the study a
  keyed pseudonym of its StudyInstanceUID (``study-…``); names, patient IDs, birth dates,
  accession numbers, UIDs and free-text descriptors are never written;
- the study date is shifted into the past by a whole number of days per patient, the rule of
  ``nenscope deidentify`` (DICOM PS3.15 Retain Longitudinal Temporal Information with Modified
  Dates: intervals between one patient's studies stay exact);
- age at the study in whole years (ages over 89 are written as 90, HIPAA Safe Harbor) and sex
  are kept (Retain Patient Characteristics), as the DICOM profile keeps them.

One row per lesion of each study's latest finished analysis (its current review version;
rejected lesions are left out unless asked), with the IBSI radiomics features as columns when
the analysis computed them. Every export is audited.
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated, Any

import pyarrow as pa
import pyarrow.parquet as pq
from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import select

from nenscope.dicom.deidentify import date_shift_days
from nenscope.store.audit import record_event
from nenscope.store.models import Analysis, AnalysisState, Role, Series, Study, User
from nenscope.store.review import current_result, lesions_of
from nenscope.web.api._deps import SettingsDep, StoreDep, patient_label
from nenscope.web.auth import require_roles

__all__ = ["LESION_COLUMNS", "candidate_studies", "router"]

router = APIRouter(tags=["export"])

Exporter = Annotated[User, Depends(require_roles(Role.RESEARCHER, Role.ADMIN))]

LESION_COLUMNS = (
    "lesion_id",
    "status",
    "site",
    "suvmax",
    "suvpeak",
    "suvmean",
    "suv_sd",
    "volume_ml",
    "tlg",
    "krenning",
    "x_mm",
    "y_mm",
    "z_mm",
)
"""Lesion columns of the export (lesions.json names; ``x_mm``… the centroid, LPS)."""

MAX_AGE_YEARS = 90
"""Ages above 89 are written as 90 (HIPAA Safe Harbor)."""


class ExportFormat(StrEnum):
    """File format of the lesion table."""

    CSV = "csv"
    PARQUET = "parquet"


def _study_key(salt: str, uid: str) -> str:
    return "study-" + hashlib.sha256(f"{salt}:study:{uid}".encode()).hexdigest()[:16]


def _parse_date(text: str) -> date | None:
    digits = text.replace("-", "")
    if len(digits) != 8 or not digits.isdigit():
        return None
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


def _age(birth: date | None, on: date | None) -> int | None:
    if birth is None or on is None:
        return None
    years = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return min(years, MAX_AGE_YEARS)


def _latest_analysis(session: Any, study_id: int) -> Analysis | None:
    found: Analysis | None = session.scalar(
        select(Analysis)
        .where(
            Analysis.study_id == study_id,
            Analysis.version > 0,
            Analysis.status.in_([AnalysisState.DONE.value, AnalysisState.SIGNED.value]),
        )
        .order_by(Analysis.id.desc())
        .limit(1)
    )
    return found


def _tracer(session: Any, study_id: int) -> str:
    names = session.scalars(
        select(Series.radiopharmaceutical).where(
            Series.study_id == study_id, Series.radiopharmaceutical != ""
        )
    ).all()
    return str(names[0]) if names else ""


def candidate_studies(
    session: Any, salt: str, tracer: str | None, signed_only: bool
) -> list[dict[str, Any]]:
    """Return the de-identified studies with a finished analysis matching the filters.

    Each is a dict of the export's study columns (``study``, ``patient``,
    ``study_date_shifted``, ``age_years``, ``sex``, ``tracer``, ``modalities``, ``signed``)
    and, under ``_analysis``, the analysis the rows come from (never exported).
    """
    out = []
    for study in session.scalars(select(Study).order_by(Study.id)):
        analysis = _latest_analysis(session, study.id)
        if analysis is None:
            continue
        if signed_only and analysis.status != AnalysisState.SIGNED.value:
            continue
        study_tracer = _tracer(session, study.id)
        if tracer and tracer.lower() not in study_tracer.lower():
            continue
        patient = study.patient
        real_date = _parse_date(study.study_date)
        shift = timedelta(days=date_shift_days(f"{salt}:{patient.patient_key}"))
        out.append(
            {
                "study": _study_key(salt, study.study_instance_uid),
                "patient": patient_label(
                    User(role=Role.RESEARCHER.value), patient.patient_key, salt
                ),
                "study_date_shifted": None
                if real_date is None
                else (real_date - shift).isoformat(),
                "age_years": _age(_parse_date(patient.birth_date), real_date),
                "sex": patient.sex or None,
                "tracer": study_tracer,
                "modalities": study.modalities,
                "signed": analysis.status == AnalysisState.SIGNED.value,
                "_analysis": analysis,
            }
        )
    return out


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not k.startswith("_")}


@router.get("/export/studies")
def export_studies(
    store: StoreDep,
    settings: SettingsDep,
    user: Exporter,
    tracer: Annotated[str | None, Query(description="part of the radiopharmaceutical")] = None,
    signed_only: bool = False,
) -> list[dict[str, Any]]:
    """List the studies with a finished analysis that an export can hold, de-identified."""
    with store.session() as session:
        rows = candidate_studies(session, settings.pseudonym_salt, tracer, signed_only)
        return [_public(r) for r in rows]


def _lesion_rows(
    session: Any, study: dict[str, Any], include_rejected: bool
) -> list[dict[str, Any]]:
    analysis: Analysis = study["_analysis"]
    result = current_result(session, analysis)
    radiomics = {
        int(r["id"]): r.get("features") or {}
        for r in ((result.get("analysis") or {}).get("radiomics") or [])
        if isinstance(r, dict) and "id" in r
    }
    rows = []
    for lesion in lesions_of(result):
        if lesion.get("status") == "rejected" and not include_rejected:
            continue
        centre = lesion.get("centroid_mm") or [None, None, None]
        row = _public(study)
        values = {
            **{k: lesion.get(k) for k in LESION_COLUMNS},
            "lesion_id": lesion.get("id"),
            "x_mm": centre[0],
            "y_mm": centre[1],
            "z_mm": centre[2],
        }
        row.update(values)
        for name, value in (radiomics.get(int(lesion.get("id") or 0)) or {}).items():
            row[f"radiomics.{name}"] = value
        rows.append(row)
    return rows


def _numeric(value: Any) -> Any:
    if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity"):
        return float(value.replace("Infinity", "inf"))
    return value


def _table_bytes(rows: list[dict[str, Any]], fmt: ExportFormat) -> bytes:
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    if fmt is ExportFormat.CSV:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in columns})
        return buffer.getvalue().encode("utf-8")
    table = (
        pa.Table.from_pylist([{k: _numeric(row.get(k)) for k in columns} for row in rows])
        if rows
        else pa.table({c: pa.array([], pa.string()) for c in columns or ["study"]})
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


@router.get("/export/lesions")
def export_lesions(
    store: StoreDep,
    settings: SettingsDep,
    user: Exporter,
    study: Annotated[list[str] | None, Query(description="study pseudonyms; all if none")] = None,
    tracer: str | None = None,
    signed_only: bool = False,
    include_rejected: bool = False,
    format: ExportFormat = ExportFormat.CSV,
) -> Response:
    """Send the de-identified lesion table of the chosen studies (one row per lesion)."""
    with store.session() as session:
        chosen = candidate_studies(session, settings.pseudonym_salt, tracer, signed_only)
        if study:
            wanted = set(study)
            chosen = [c for c in chosen if c["study"] in wanted]
        rows = [r for c in chosen for r in _lesion_rows(session, c, include_rejected)]
        record_event(
            session,
            user=user,
            action="export.lesions",
            object_type="export",
            object_id=format.value,
            after={"studies": [c["study"] for c in chosen], "rows": len(rows)},
        )
    body = _table_bytes(rows, format)
    media = (
        "text/csv; charset=utf-8"
        if format is ExportFormat.CSV
        else "application/vnd.apache.parquet"
    )
    return Response(
        body,
        media_type=media,
        headers={
            "Content-Disposition": f'attachment; filename="nenscope-lesions.{format.value}"',
            "X-Export-Studies": str(len(chosen)),
            "X-Export-Rows": str(len(rows)),
        },
    )
