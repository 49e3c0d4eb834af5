"""Shared pieces of the JSON API: dependencies, role sets, lookups, de-identification."""

from __future__ import annotations

import hashlib
from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import Session

from nenscope.store.db import Store
from nenscope.store.models import Base, Role, User
from nenscope.web.auth import current_user, get_store, require_roles
from nenscope.web.settings import ServiceSettings

__all__ = [
    "Importer",
    "Reader",
    "Reviewer",
    "SettingsDep",
    "Signer",
    "StoreDep",
    "get_or_404",
    "patient_label",
]


def get_settings(request: Request) -> ServiceSettings:
    """Return the app's settings (dependency)."""
    settings: ServiceSettings = request.app.state.settings
    return settings


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[ServiceSettings, Depends(get_settings)]
Reader = Annotated[User, Depends(current_user)]
"""Any signed-in user (researchers see de-identified patients)."""
Importer = Annotated[User, Depends(require_roles(Role.ADMIN, Role.TECHNOLOGIST, Role.PHYSICIAN))]
"""Import studies and start analyses."""
Reviewer = Annotated[User, Depends(require_roles(Role.ADMIN, Role.PHYSICIAN))]
"""Review edits."""
Signer = Annotated[User, Depends(require_roles(Role.PHYSICIAN))]
"""Sign-off is a physician's act only."""

M = TypeVar("M", bound=Base)


def get_or_404(session: Session, model: type[M], key: int, what: str) -> M:
    """Return the row or answer 404 naming what was not found."""
    row = session.get(model, key)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No {what} with id {key}.")
    return row


def patient_label(user: User, patient_key: str, salt: str) -> str:
    """Return the patient identifier shown to ``user``: a stable pseudonym for researchers."""
    if user.role == Role.RESEARCHER.value:
        digest = hashlib.sha256(f"{salt}:{patient_key}".encode()).hexdigest()
        return f"anon-{digest[:16]}"
    return patient_key
