"""Accounts and credentials: argon2id password hashes, bearer tokens and browser sessions.

Secrets are never stored: a token row keeps the SHA-256 of the random secret handed to the
client, so a copy of the database does not let anyone log in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from nenscope.core.enums import parse_option
from nenscope.core.errors import WorkbenchError
from nenscope.store.audit import record_event
from nenscope.store.models import ApiToken, Role, User, utc_now

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "AccountError",
    "IssuedToken",
    "TokenKind",
    "authenticate",
    "create_user",
    "has_admin",
    "issue_token",
    "resolve_token",
    "revoke_token",
    "update_user",
]

MIN_PASSWORD_LENGTH = 8
"""Shortest password accepted for a new account."""

_HASHER = PasswordHasher()
"""argon2id with argon2-cffi's current RFC 9106 low-memory defaults (stateless, thread-safe)."""

_DUMMY_HASH = _HASHER.hash("not a password of anyone")
"""Verified against when the user does not exist, so both failures take the same time."""


class AccountError(WorkbenchError, ValueError):
    """An account cannot be created or used as asked."""


class TokenKind:
    """Kinds of credential rows: an API bearer token or a browser session."""

    API = "api"
    SESSION = "session"


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedToken:
    """A new credential: the secret (shown once) and, for sessions, the CSRF token."""

    secret: str
    expires_at: datetime
    csrf_token: str | None


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_user(
    session: Session, username: str, *, role: str, password: str, actor: User | None = None
) -> User:
    """Create an account with an argon2id hash of ``password``.

    Raises
    ------
    AccountError
        For an empty or taken name, an unknown role or a password under
        :data:`MIN_PASSWORD_LENGTH` characters.
    """
    name = username.strip()
    if not name or len(name) > 128 or any(c.isspace() for c in name):
        raise AccountError(
            f"User name {username!r} must be 1-128 characters without spaces, e.g. 'dr.smith'."
        )
    parsed_role = parse_option(role, Role, what="role")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            f"The password for {name!r} has {len(password)} characters; at least "
            f"{MIN_PASSWORD_LENGTH} are needed."
        )
    if session.scalar(select(User).where(User.username == name)) is not None:
        raise AccountError(f"User {name!r} exists already; choose another name.")
    user = User(username=name, role=parsed_role.value, password_hash=_HASHER.hash(password))
    session.add(user)
    session.flush()
    record_event(
        session,
        user=actor,
        action="user.create",
        object_type="user",
        object_id=user.id,
        after={"username": name, "role": parsed_role.value},
    )
    return user


def has_admin(session: Session) -> bool:
    """Whether at least one active admin account exists."""
    query = select(User.id).where(User.role == Role.ADMIN.value, User.is_active.is_(True))
    return session.scalar(query.limit(1)) is not None


def authenticate(session: Session, username: str, password: str) -> User | None:
    """Return the active user whose password matches, else ``None`` (same cost either way)."""
    user = session.scalar(select(User).where(User.username == username))
    stored = _DUMMY_HASH if user is None else user.password_hash
    try:
        _HASHER.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_active:
        return None
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = _HASHER.hash(password)
    return user


def issue_token(session: Session, user: User, *, kind: str, lifetime: timedelta) -> IssuedToken:
    """Create a bearer token (``kind="api"``) or a browser session with its CSRF token."""
    secret = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32) if kind == TokenKind.SESSION else None
    expires = utc_now() + lifetime
    session.add(
        ApiToken(
            token_sha256=_sha256(secret),
            user_id=user.id,
            kind=kind,
            csrf_token=csrf,
            expires_at=expires,
        )
    )
    # Expired credentials are removed whenever a new one is issued: the table stays small.
    session.execute(delete(ApiToken).where(ApiToken.expires_at < utc_now()))
    return IssuedToken(secret=secret, expires_at=expires, csrf_token=csrf)


def resolve_token(session: Session, secret: str, *, kind: str) -> ApiToken | None:
    """Return the live credential row of this kind for ``secret`` (``None``: unknown/expired)."""
    row = session.scalar(
        select(ApiToken).where(ApiToken.token_sha256 == _sha256(secret), ApiToken.kind == kind)
    )
    if row is None or row.expires_at <= utc_now() or not row.user.is_active:
        return None
    return row


def revoke_token(session: Session, secret: str) -> None:
    """Delete the credential for ``secret`` (log out); unknown secrets are ignored."""
    session.execute(delete(ApiToken).where(ApiToken.token_sha256 == _sha256(secret)))


def update_user(
    session: Session,
    user_id: int,
    *,
    role: str | None = None,
    is_active: bool | None = None,
    actor: User | None = None,
) -> User:
    """Change an account's role or disable/enable it (audited, before and after).

    A disabled account can no longer log in, and its tokens and sessions stop working at once
    (:func:`resolve_token` checks ``is_active``).

    Raises
    ------
    AccountError
        For an unknown account or role, or a change that would leave no active admin (nobody
        could manage the accounts any more).
    """
    user = session.get(User, user_id)
    if user is None:
        raise AccountError(f"No account with id {user_id}.")
    before = {"role": user.role, "is_active": user.is_active}
    new_role = user.role if role is None else parse_option(role, Role, what="role").value
    new_active = user.is_active if is_active is None else bool(is_active)
    loses_admin = user.role == Role.ADMIN.value and user.is_active
    if loses_admin and (new_role != Role.ADMIN.value or not new_active):
        others = session.scalar(
            select(User.id)
            .where(User.role == Role.ADMIN.value, User.is_active.is_(True), User.id != user.id)
            .limit(1)
        )
        if others is None:
            raise AccountError(
                f"{user.username!r} is the last active admin; make another account admin "
                "first, then change this one."
            )
    user.role, user.is_active = new_role, new_active
    after = {"role": user.role, "is_active": user.is_active}
    if after != before:
        record_event(
            session,
            user=actor,
            action="user.update",
            object_type="user",
            object_id=user.id,
            before=before,
            after=after,
        )
    return user
