"""``GET /api/audit``: the audit trail (admin)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from nenscope.store.models import AuditEvent, Role, User
from nenscope.web.api._deps import StoreDep
from nenscope.web.auth import require_roles

__all__ = ["AuditPage", "audit_events", "router"]

router = APIRouter(tags=["audit"])


@router.get("/audit")
def audit(
    response: Response,
    store: StoreDep,
    _admin: Annotated[User, Depends(require_roles(Role.ADMIN))],
    object_type: Annotated[str | None, Query()] = None,
    object_id: Annotated[str | None, Query()] = None,
    action: Annotated[str | None, Query()] = None,
    user: Annotated[str | None, Query(description="user name")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    """Audit events, newest first, filtered by object, action and user (``X-Total-Count``)."""
    with store.session() as session:
        events = audit_events(
            session,
            object_type=object_type,
            object_id=object_id,
            action=action,
            user=user,
            limit=limit,
            offset=offset,
        )
        response.headers["X-Total-Count"] = str(events.total)
        return [
            {
                "id": e.id,
                "at": e.at.isoformat(),
                "user": e.username,
                "action": e.action,
                "object_type": e.object_type,
                "object_id": e.object_id,
                "before": e.before,
                "after": e.after,
            }
            for e in events.rows
        ]


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditPage:
    """One page of audit events and how many match in all."""

    rows: list[AuditEvent]
    total: int


def audit_events(
    session: Session,
    *,
    object_type: str | None = None,
    object_id: str | None = None,
    action: str | None = None,
    user: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> AuditPage:
    """Return the matching audit events, newest first (``action`` may end with ``*``)."""
    where = []
    if object_type:
        where.append(AuditEvent.object_type == object_type)
    if object_id:
        where.append(AuditEvent.object_id == object_id)
    if action:
        where.append(
            AuditEvent.action.startswith(action[:-1], autoescape=True)
            if action.endswith("*")
            else AuditEvent.action == action
        )
    if user:
        where.append(AuditEvent.username == user)
    total = session.scalar(select(func.count(AuditEvent.id)).where(*where)) or 0
    rows = session.scalars(
        select(AuditEvent).where(*where).order_by(AuditEvent.id.desc()).limit(limit).offset(offset)
    ).all()
    return AuditPage(rows=list(rows), total=int(total))
