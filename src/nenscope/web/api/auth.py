"""``/api/auth/token``, ``/api/me`` and account management (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, Field
from sqlalchemy import select

from nenscope.store.accounts import (
    TokenKind,
    authenticate,
    create_user,
    issue_token,
    update_user,
)
from nenscope.store.audit import record_event
from nenscope.store.models import Role, User
from nenscope.web.api._deps import Reader, SettingsDep, StoreDep, get_or_404
from nenscope.web.auth import require_roles

__all__ = ["router"]

router = APIRouter(tags=["accounts"])


class Credentials(BaseModel):
    """User name and password."""

    username: str = Field(max_length=128)
    password: str = Field(max_length=1024)


class TokenAnswer(BaseModel):
    """A bearer token and when it expires (ISO 8601, UTC)."""

    token: str
    token_type: str = "bearer"
    expires_at: str


@router.post("/auth/token", response_model=TokenAnswer)
def token(body: Credentials, store: StoreDep, settings: SettingsDep) -> TokenAnswer:
    """Exchange a user name and password for a bearer token (401 when they do not match)."""
    with store.session() as session:
        user = authenticate(session, body.username, body.password)
        if user is None:
            record_event(
                session,
                user=None,
                action="auth.token_failed",
                object_type="user",
                object_id=body.username[:64],
            )
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="Unknown user or wrong password.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    with store.session() as session:
        issued = issue_token(session, user, kind=TokenKind.API, lifetime=settings.token_lifetime)
        record_event(
            session, user=user, action="auth.token", object_type="user", object_id=user.id
        )
    return TokenAnswer(token=issued.secret, expires_at=issued.expires_at.isoformat())


@router.get("/me")
def me(user: Reader) -> dict[str, object]:
    """Who the token belongs to."""
    return {"id": user.id, "username": user.username, "role": user.role}


class NewUser(BaseModel):
    """An account to create."""

    username: str = Field(max_length=128)
    role: str
    password: str = Field(min_length=1, max_length=1024)


Admin = Annotated[User, Depends(require_roles(Role.ADMIN))]


@router.post("/users", status_code=201)
def add_user(body: NewUser, store: StoreDep, admin: Admin) -> dict[str, object]:
    """Create an account (admin)."""
    with store.session() as session:
        user = create_user(
            session, body.username, role=body.role, password=body.password, actor=admin
        )
        return {"id": user.id, "username": user.username, "role": user.role}


@router.get("/users")
def list_users(store: StoreDep, _admin: Admin) -> list[dict[str, object]]:
    """List the accounts (admin)."""
    with store.session() as session:
        return [
            {"id": u.id, "username": u.username, "role": u.role, "is_active": u.is_active}
            for u in session.scalars(select(User).order_by(User.id))
        ]


class UserChange(BaseModel):
    """What to change of an account (each optional)."""

    role: str | None = None
    is_active: bool | None = None


@router.patch("/users/{user_id}")
def change_user(
    user_id: int, body: UserChange, store: StoreDep, admin: Admin
) -> dict[str, object]:
    """Change an account's role or disable/enable it (admin; the last admin stays)."""
    with store.session() as session:
        get_or_404(session, User, user_id, "account")
        user = update_user(session, user_id, role=body.role, is_active=body.is_active, actor=admin)
        return {
            "id": user.id,
            "username": user.username,
            "role": user.role,
            "is_active": user.is_active,
        }
