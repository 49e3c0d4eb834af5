"""``GET /api/audit``: the audit trail (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from nenscope.store.models import AuditEvent, Role, User
from nenscope.web.api._deps import StoreDep
from nenscope.web.auth import require_roles

__all__ = ["router"]

router = APIRouter(tags=["audit"])


@router.get("/audit")
def audit(
    store: StoreDep,
    _admin: Annotated[User, Depends(require_roles(Role.ADMIN))],
    object_type: Annotated[str | None, Query()] = None,
    object_id: Annotated[str | None, Query()] = None,
    action: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    """Audit events, newest first, filtered by object and action."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit).offset(offset)
    if object_type:
        query = query.where(AuditEvent.object_type == object_type)
    if object_id:
        query = query.where(AuditEvent.object_id == object_id)
    if action:
        query = query.where(AuditEvent.action == action)
    with store.session() as session:
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
            for e in session.scalars(query)
        ]
