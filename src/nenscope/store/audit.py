"""The audit trail: every state change of the service is one :class:`AuditEvent` row."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from nenscope.store.models import AuditEvent, User

__all__ = ["SYSTEM_USER", "record_event"]

SYSTEM_USER = "system"
"""Name written for changes made by the service itself (worker, Storage SCP rules)."""


def record_event(
    session: Session,
    *,
    user: User | None,
    action: str,
    object_type: str,
    object_id: object,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to ``session`` (committed with the change it describes).

    Parameters
    ----------
    session
        The session making the change; the event is committed or rolled back with it.
    user
        Who made the change; ``None`` for the service itself.
    action
        What was done, e.g. ``study.import``, ``lesion.status``, ``analysis.sign``.
    object_type, object_id
        What was changed.
    before, after
        The relevant state before and after (JSON-safe).
    """
    event = AuditEvent(
        user_id=None if user is None else user.id,
        username=SYSTEM_USER if user is None else user.username,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=None if before is None else dict(before),
        after=None if after is None else dict(after),
    )
    session.add(event)
    return event
