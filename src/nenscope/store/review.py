"""Review of an analysis: versions, lesion rows, edits with history and undo.

Every edit makes a new immutable :class:`AnalysisVersion` from the current one; the
:class:`ReviewEdit` row says which action turned which version into which. Undo is itself an
edit (it restores the content of the version before the undone edit), so the history is never
rewritten. The queryable :class:`Lesion` rows always mirror the current version.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from nenscope.core.errors import WorkbenchError
from nenscope.store.audit import record_event
from nenscope.store.models import (
    Analysis,
    AnalysisState,
    AnalysisVersion,
    Lesion,
    ReviewEdit,
    User,
)

__all__ = [
    "LESION_STATUSES",
    "ReviewError",
    "apply_edit",
    "current_result",
    "lesions_of",
    "replace_lesion_rows",
    "undo_last_edit",
]

LESION_STATUSES = ("candidate", "confirmed", "rejected")
"""Review states of a lesion (DESIGN.md, lesions.json ``status``)."""


class ReviewError(WorkbenchError, ValueError):
    """A review edit is not possible (no result yet, unknown lesion, nothing to undo)."""


def lesions_of(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Return the lesions of a stored result, each with its review ``status``."""
    report = result.get("report") or {}
    lesions = [dict(les) for les in report.get("lesions") or []]
    for lesion in lesions:
        lesion.setdefault("status", "candidate")
    return lesions


def _number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def replace_lesion_rows(session: Session, analysis_id: int, result: Mapping[str, Any]) -> None:
    """Make the lesion rows of an analysis mirror ``result``."""
    session.execute(delete(Lesion).where(Lesion.analysis_id == analysis_id))
    session.flush()
    for lesion in lesions_of(result):
        centre = lesion.get("centroid_mm") or [None, None, None]
        session.add(
            Lesion(
                analysis_id=analysis_id,
                lesion_key=int(lesion["id"]),
                status=str(lesion["status"]),
                site=str(lesion.get("site") or "")[:64],
                suvmax=_number(lesion.get("suvmax")),
                suvpeak=_number(lesion.get("suvpeak")),
                suvmean=_number(lesion.get("suvmean")),
                volume_ml=_number(lesion.get("volume_ml")),
                tlg=_number(lesion.get("tlg")),
                x_mm=_number(centre[0]),
                y_mm=_number(centre[1]),
                z_mm=_number(centre[2]),
            )
        )


def current_result(session: Session, analysis: Analysis) -> dict[str, Any]:
    """Return the result of the analysis's current version."""
    if analysis.version < 1:
        raise ReviewError(
            f"Analysis {analysis.id} has no result yet (status {analysis.status}); wait for "
            "its job to finish."
        )
    row = session.scalar(
        select(AnalysisVersion).where(
            AnalysisVersion.analysis_id == analysis.id,
            AnalysisVersion.version == analysis.version,
        )
    )
    if row is None:
        raise ReviewError(f"Analysis {analysis.id}: version {analysis.version} is missing.")
    return dict(row.result)


def _store_version(
    session: Session,
    analysis: Analysis,
    result: dict[str, Any],
    *,
    user: User,
    action: str,
    payload: Mapping[str, Any],
) -> int:
    before = analysis.version
    new = before + 1
    session.add(
        AnalysisVersion(
            analysis_id=analysis.id, version=new, result=result, reason=action, created_by=user.id
        )
    )
    session.add(
        ReviewEdit(
            analysis_id=analysis.id,
            from_version=before,
            to_version=new,
            action=action,
            payload=dict(payload),
            user_id=user.id,
        )
    )
    analysis.version = new
    if analysis.status == AnalysisState.SIGNED.value:
        # A change after signing is an amendment: the analysis must be signed again.
        analysis.status = AnalysisState.DONE.value
    replace_lesion_rows(session, analysis.id, result)
    return new


def apply_edit(
    session: Session,
    analysis: Analysis,
    *,
    user: User,
    action: str,
    payload: Mapping[str, Any],
    edit: Any,
) -> dict[str, Any]:
    """Apply ``edit(result) -> new_result`` as a new version; audited with before/after.

    ``edit`` receives a deep copy of the current result and returns the edited result.
    """
    if analysis.status not in (AnalysisState.DONE.value, AnalysisState.SIGNED.value):
        raise ReviewError(
            f"Analysis {analysis.id} is {analysis.status}; only a finished analysis is reviewed."
        )
    current = current_result(session, analysis)
    edited: dict[str, Any] = edit(copy.deepcopy(current))
    before_version = analysis.version
    version = _store_version(session, analysis, edited, user=user, action=action, payload=payload)
    record_event(
        session,
        user=user,
        action=f"analysis.{action}",
        object_type="analysis",
        object_id=analysis.id,
        before={"version": before_version, **dict(payload.get("before", {}))},
        after={"version": version, **{k: v for k, v in payload.items() if k != "before"}},
    )
    return edited


def undo_last_edit(session: Session, analysis: Analysis, *, user: User) -> int:
    """Undo the latest edit that is not an undo itself; returns the new version number."""
    edits = session.scalars(
        select(ReviewEdit)
        .where(ReviewEdit.analysis_id == analysis.id)
        .order_by(ReviewEdit.to_version.desc())
    ).all()
    undone = {int(e.payload.get("undoes", -1)) for e in edits if e.action == "undo"}
    target = next((e for e in edits if e.action != "undo" and e.id not in undone), None)
    if target is None:
        raise ReviewError(f"Analysis {analysis.id} has no edit left to undo.")
    restored = session.scalar(
        select(AnalysisVersion).where(
            AnalysisVersion.analysis_id == analysis.id,
            AnalysisVersion.version == target.from_version,
        )
    )
    if restored is None:
        raise ReviewError(f"Analysis {analysis.id}: version {target.from_version} is missing.")
    before = analysis.version
    version = _store_version(
        session,
        analysis,
        copy.deepcopy(dict(restored.result)),
        user=user,
        action="undo",
        payload={"undoes": target.id, "restores_version": target.from_version},
    )
    record_event(
        session,
        user=user,
        action="analysis.undo",
        object_type="analysis",
        object_id=analysis.id,
        before={"version": before},
        after={"version": version, "undoes": target.action},
    )
    return version
